"""authenticate(): the header rules (credentials.py) followed by the mode's verifier."""

from __future__ import annotations

from collections.abc import Sequence

from mirage.auth.credentials import bearer_token
from mirage.auth.principal import AuthError, Principal, Verifier


def authenticate(authorization: Sequence[str], verifier: Verifier) -> Principal:
    """``authorization``: every Authorization header value the request carried.

    Returns the principal, or raises AuthError (401) / BadCredentials (400). Any
    other exception from a verifier is turned into a generic AuthError: a bad token
    is never a 500."""
    token = bearer_token(authorization)
    try:
        principal = verifier.verify(token)
    except AuthError:
        raise
    except Exception as exc:  # a verifier bug must fail closed, never 500 or leak a message
        raise AuthError("invalid token", why=f"verifier raised {type(exc).__name__}") from None
    if not isinstance(principal, Principal) or not principal.account:
        raise AuthError("invalid token", why="verifier returned no account")
    return principal
