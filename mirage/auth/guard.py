"""Bearer credential extraction: the header rules, independent of any mode."""

from __future__ import annotations

from collections.abc import Sequence

from mirage.auth.principal import AuthError, BadCredentials, Principal, Verifier


def authenticate(authorization: Sequence[str], verifier: Verifier) -> Principal:
    """``authorization``: every Authorization header value the request carried."""
    if not authorization:
        raise AuthError("missing bearer token", token_presented=False)
    if len(authorization) > 1:
        raise BadCredentials("more than one Authorization header")
    scheme, _, token = authorization[0].strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("expected a Bearer token", token_presented=False)
    return verifier.verify(token.strip().encode("ascii", "replace"))
