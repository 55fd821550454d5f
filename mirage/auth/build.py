"""Build the one verifier for the configured mode."""

from __future__ import annotations

import hmac

from mirage.auth.principal import AuthError, Principal
from mirage.settings import ConfigError, Settings


class StaticTokenVerifier:
    def __init__(self, token: bytes, mode: str):
        self._token = token
        self.mode = mode

    def verify(self, token: bytes) -> Principal:
        if self._token and hmac.compare_digest(token, self._token):
            return Principal("default", self.mode)
        raise AuthError("invalid token")


def build_verifier(settings: Settings):
    if settings.auth_mode == "token":
        return StaticTokenVerifier(settings.auth_token.encode(), "token")
    if settings.auth_mode == "local":
        if settings.auth_token:
            return StaticTokenVerifier(settings.auth_token.encode(), "local")
        raise ConfigError("auth.token_file", str(settings.auth_token_file), "local token file: not implemented yet")
    raise ConfigError("auth.mode", settings.source_of("auth.mode"), "jwt: not implemented yet")
