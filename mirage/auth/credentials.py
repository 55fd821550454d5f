"""Bearer credentials: from the request's Authorization header(s) to token bytes.

The rules, independent of the auth mode:

* exactly one ``Authorization`` header (two or more → :class:`BadCredentials`, a 400);
* the scheme is ``Bearer``, in any case, followed by one or more spaces;
* the token matches RFC 6750's ``b64token`` (``[A-Za-z0-9-._~+/]+=*``) — nothing else;
* the header is at most :data:`MAX_TOKEN_BYTES` (8 KiB) plus the scheme, checked
  before any other work.

A token is only ever taken from the Authorization header: never from the query
string, a cookie or the body (this module is given nothing else).
"""

from __future__ import annotations

from collections.abc import Sequence

from mirage.auth.principal import AuthError, BadCredentials
from mirage.auth.token_file import MAX_TOKEN_CHARS as MAX_TOKEN_BYTES   # one grammar, one cap
from mirage.auth.token_file import is_token_text

_MAX_HEADER_CHARS = MAX_TOKEN_BYTES + 64      # "Bearer" + spaces around the token


def bearer_token(authorization: Sequence[str]) -> bytes:
    """``authorization``: every Authorization header value the request carried.

    Returns the token as ASCII bytes, or raises AuthError (401) / BadCredentials (400).
    The exceptions' reasons never contain the token."""
    if not authorization:
        raise AuthError("missing bearer token", token_presented=False)
    if len(authorization) > 1:
        raise BadCredentials("more than one Authorization header")
    value = authorization[0]
    if not isinstance(value, str):
        raise AuthError("invalid token", why="authorization header is not text")
    if len(value) > _MAX_HEADER_CHARS:
        raise AuthError("invalid token", why=f"authorization header longer than {_MAX_HEADER_CHARS} characters")
    scheme, _, rest = value.strip(" \t").partition(" ")
    if scheme.lower() != "bearer":
        raise AuthError("missing bearer token", token_presented=False, why="authorization scheme is not Bearer")
    token = rest.strip(" ")
    if not token:
        raise AuthError("missing bearer token", token_presented=False, why="Bearer without a token")
    if len(token) > MAX_TOKEN_BYTES:
        raise AuthError("invalid token", why=f"token longer than {MAX_TOKEN_BYTES} bytes")
    if not is_token_text(token):
        raise AuthError("invalid token", why="token is not RFC 6750 b64token text")
    return token.encode("ascii")
