"""build_verifier(settings): the one verifier for the configured mode, built once at start
(and on reload). Every refusal is a ``ConfigError`` naming the setting and its source, so
the daemon prints one line and exits 2; the running daemon never runs without auth."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mirage.auth import token_file
from mirage.auth.principal import Verifier
from mirage.auth.static import StaticTokenVerifier
from mirage.settings import ConfigError, Settings

_MAX_KEY_FILE_BYTES = 1 << 20


def build_verifier(settings: Settings) -> Verifier:
    """Raises ConfigError when the mode cannot run."""
    mode = settings.auth_mode
    if mode == "local":
        return _local(settings)
    if mode == "token":
        return _token(settings)
    if mode == "jwt":
        return _jwt(settings)
    raise ConfigError("auth.mode", settings.source_of("auth.mode"), f"unknown auth mode {mode!r}")


# ---------------------------------------------------------------- local and token

def _checked_configured_token(settings: Settings) -> bytes:
    token = settings.auth_token or ""
    source = settings.sources.get("auth.token", "MIRAGE_AUTH_TOKEN")
    if not token_file.is_token_text(token):
        raise ConfigError("auth.token", source,
                          "is not usable as a bearer token: it must be 1..8192 characters of "
                          "A-Z a-z 0-9 - . _ ~ + / (optionally ending in =)")
    return token.encode("ascii")


def _token(settings: Settings) -> StaticTokenVerifier:
    if not settings.auth_token:   # settings refuses this already; kept as defense in depth
        raise ConfigError("auth.token", settings.sources.get("auth.token", "MIRAGE_AUTH_TOKEN"),
                          "token mode needs a token: set MIRAGE_AUTH_TOKEN (or auth.token in the config file)")
    return StaticTokenVerifier(_checked_configured_token(settings), "token")


def _local(settings: Settings) -> StaticTokenVerifier:
    if settings.auth_token:
        return StaticTokenVerifier(_checked_configured_token(settings), "local")
    path = Path(settings.auth_token_file)
    try:
        token = token_file.mint_or_load(path)
    except token_file.TokenFileError as exc:
        raise ConfigError("auth.token_file", settings.source_of("auth.token_file"), str(exc)) from None
    return StaticTokenVerifier(token.encode("ascii"), "local")


# ---------------------------------------------------------------- jwt

def _jwt(settings: Settings) -> Verifier:
    # imported here so that local/token daemons and the CLI never load jwt/cryptography
    from mirage.auth.jwt_verifier import ASYMMETRIC_ALGS, JwtVerifier, KeyProblem, parse_public_key

    alg = settings.jwt_alg
    alg_source = settings.sources.get("jwt.alg", "MIRAGE_JWT_ALG")
    if not alg:
        raise ConfigError("jwt.alg", alg_source,
                          "jwt mode needs MIRAGE_JWT_ALG (RS/PS/ES 256/384/512 or EdDSA; none and HS* are refused)")
    if alg not in ASYMMETRIC_ALGS:
        raise ConfigError("jwt.alg", alg_source,
                          f"{alg!r} is refused: only RS/PS/ES 256/384/512 and EdDSA are accepted (never none or HS*)")

    if settings.jwt_pubkey and settings.jwt_pubkey_file:
        raise ConfigError("jwt.pubkey", settings.source_of("jwt.pubkey"),
                          "give exactly one of MIRAGE_JWT_PUBKEY or MIRAGE_JWT_PUBKEY_FILE")
    if settings.jwt_pubkey:
        key_name, key_source, what = "jwt.pubkey", settings.sources.get("jwt.pubkey", "MIRAGE_JWT_PUBKEY"), "the key"
        pem = settings.jwt_pubkey
    elif settings.jwt_pubkey_file:
        key_name = "jwt.pubkey_file"
        key_source = settings.sources.get("jwt.pubkey_file", "MIRAGE_JWT_PUBKEY_FILE")
        what = f"the key file {settings.jwt_pubkey_file}"
        pem = _read_key_file(Path(settings.jwt_pubkey_file), key_source)
    else:
        raise ConfigError("jwt.pubkey", settings.sources.get("jwt.pubkey", "MIRAGE_JWT_PUBKEY"),
                          "jwt mode needs exactly one of MIRAGE_JWT_PUBKEY or MIRAGE_JWT_PUBKEY_FILE")

    try:
        key = parse_public_key(pem)
        return JwtVerifier(
            key, alg,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            authorized_parties=settings.jwt_authorized_parties,
            clock_skew_seconds=settings.jwt_clock_skew_seconds,
        )
    except KeyProblem as exc:
        raise ConfigError(key_name, key_source, f"{what} {exc} (jwt.alg {alg} from {alg_source})") from None


def _read_key_file(path: Path, source: str) -> str:
    def refuse(problem: str) -> ConfigError:
        return ConfigError("jwt.pubkey_file", source, f"{path}: {problem}")

    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        raise refuse("does not exist") from None
    except PermissionError:
        raise refuse("permission denied") from None
    except OSError as exc:
        raise refuse(f"cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise refuse("is a directory, not a key file")
        if not stat.S_ISREG(info.st_mode):
            raise refuse("is not a regular file")
        if info.st_size > _MAX_KEY_FILE_BYTES:
            raise refuse(f"is larger than {_MAX_KEY_FILE_BYTES} bytes; not a public key")
        data = os.read(fd, _MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise refuse("is not UTF-8 PEM text") from None
