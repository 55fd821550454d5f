"""Which bearer token the CLI sends: ``--token``, else ``MIRAGE_TOKEN``, else the local token file.

Every place looked at is recorded, so an auth refusal can say exactly where the CLI searched."""

from __future__ import annotations

import os

from mirage.cli.environment import TOKEN_ENV, ClientEnvironment
from mirage.cli.errors import EXIT_AUTH, CliError


class TokenChoice:
    __slots__ = ("token", "source", "looked")

    def __init__(self, token: str | None, source: str | None, looked: list[str]):
        self.token = token
        self.source = source            # "--token", "MIRAGE_TOKEN", or the file path; None if none
        self.looked = looked            # every place looked at, in order

    def where_looked(self) -> str:
        return "; ".join(self.looked)


def _checked(token: str, source: str) -> str:
    """A token given by hand must be sendable as a bearer token (no spaces, CR/LF or
    non-ASCII that would break or inject into the request head); never echoed."""
    from mirage.auth.token_file import is_token_text

    token = token.strip()
    if not is_token_text(token):
        raise CliError(f"the token from {source} is not a valid bearer token "
                       f"(RFC 6750 characters, at most 8 KiB)", EXIT_AUTH)
    return token


def resolve_token(flag_token: str | None, env: ClientEnvironment, *, local_url: bool = True) -> TokenChoice:
    """Raises CliError (exit 3) when the token file exists but is refused (loose permissions,
    a symlink, another owner, empty): it is never used then. The local token file is only
    ever sent to a daemon on this machine (``local_url``): never to a remote URL."""
    looked: list[str] = []
    if flag_token is not None:
        if not flag_token.strip():
            raise CliError("--token is empty", EXIT_AUTH)
        return TokenChoice(_checked(flag_token, "--token"), "--token", ["--token: given"])
    looked.append("--token: not given")
    if env.token:
        return TokenChoice(_checked(env.token, TOKEN_ENV), TOKEN_ENV, looked + [f"{TOKEN_ENV}: set"])
    looked.append(f"{TOKEN_ENV}: not set")
    path = env.token_file
    if not local_url:
        looked.append(f"{path}: not sent to a daemon that is not on this machine")
        return TokenChoice(None, None, looked)
    try:
        os.lstat(path)
    except FileNotFoundError:
        looked.append(f"{path}: does not exist")
        return TokenChoice(None, None, looked)
    except OSError as exc:
        looked.append(f"{path}: {exc.strerror or exc}")
        return TokenChoice(None, None, looked)
    from mirage.auth.token_file import TokenFileError, load

    try:
        token = load(path)
    except TokenFileError as exc:
        raise CliError(f"token file refused: {exc} (looked at: {'; '.join(looked)})", EXIT_AUTH) from None
    return TokenChoice(token, str(path), looked + [f"{path}: read"])
