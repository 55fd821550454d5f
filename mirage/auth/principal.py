"""The types shared by every auth mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for. ``account`` scopes workspace visibility."""

    account: str
    mode: str


class AuthError(Exception):
    """Authentication failed → 401. ``reason`` is generic and safe to show and log;
    it never contains the token, key material or a library's message."""

    def __init__(self, reason: str, *, token_presented: bool = True, why: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.token_presented = token_presented
        # a more precise cause for the log line (e.g. "issuer mismatch"); from a fixed
        # vocabulary, never a library message, never token or key material
        self.why = why or reason


class BadCredentials(Exception):
    """The request's credentials are malformed at the HTTP level (e.g. two
    Authorization headers) → 400."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Verifier(Protocol):
    mode: str

    def verify(self, token: bytes) -> Principal:
        """Return the principal for a token, or raise AuthError."""
        ...
