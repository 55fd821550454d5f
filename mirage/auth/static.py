"""StaticTokenVerifier: one shared secret (local and token modes)."""

from __future__ import annotations

import hmac

from mirage.auth.principal import AuthError, Principal

# Every request authenticated by the shared token acts for this one account, in
# local and token mode alike (so switching between the two keeps the workspaces visible).
STATIC_ACCOUNT = "local"


class StaticTokenVerifier:
    """Accepts exactly one token, compared as bytes in constant time.

    An empty expected token never authenticates anything."""

    def __init__(self, expected: bytes, mode: str, account: str = STATIC_ACCOUNT):
        if not isinstance(expected, bytes):
            raise TypeError("expected token must be bytes")
        self._expected = expected
        self.mode = mode
        self._principal = Principal(account, mode)

    def verify(self, token: bytes) -> Principal:
        if not self._expected:
            raise AuthError("invalid token", why="no token is configured")
        if isinstance(token, bytes) and hmac.compare_digest(token, self._expected):
            return self._principal
        raise AuthError("invalid token", why="token does not match")

    def __repr__(self) -> str:          # never show the secret
        return f"StaticTokenVerifier(mode={self.mode!r})"
