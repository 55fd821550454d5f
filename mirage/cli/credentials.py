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


def resolve_token(flag_token: str | None, env: ClientEnvironment) -> TokenChoice:
    """Raises CliError (exit 3) when the token file exists but is refused (loose permissions,
    a symlink, another owner, empty): it is never used then."""
    looked: list[str] = []
    if flag_token is not None:
        if not flag_token.strip():
            raise CliError("--token is empty", EXIT_AUTH)
        return TokenChoice(flag_token.strip(), "--token", ["--token: given"])
    looked.append("--token: not given")
    if env.token:
        return TokenChoice(env.token.strip(), TOKEN_ENV, looked + [f"{TOKEN_ENV}: set"])
    looked.append(f"{TOKEN_ENV}: not set")
    path = env.token_file
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
