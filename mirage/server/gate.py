"""The gate every request passes before its handler: Host/Origin check, then auth.

Order matters: a foreign Host (DNS rebinding) is refused before anything else,
even on /v1/health; then everything but GET/HEAD /v1/health needs a bearer token.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from sanic.request import Request

from mirage.auth.guard import authenticate
from mirage.auth.principal import AuthError, BadCredentials
from mirage.server.errors import ApiError

log = logging.getLogger("mirage.auth")

OPEN_PATH = "/v1/health"
OPEN_METHODS = frozenset({"GET", "HEAD"})


def _host_name(value: str) -> str:
    """'Example.com:8765' -> 'example.com'; '[::1]:80' -> '[::1]'."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[: end + 1] if end != -1 else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def check_host_origin(request: Request, allowed: frozenset[str]) -> None:
    hosts = request.headers.getall("host", [])
    if len(hosts) != 1 or not hosts[0].strip():
        raise ApiError(400, "bad_request", "exactly one Host header is required")
    if "*" in allowed:
        return
    host = _host_name(hosts[0])
    if host not in allowed:
        raise ApiError(421, "misdirected_request", "Host is not served here")
    origins = request.headers.getall("origin", [])
    for origin in origins:
        parts = urlsplit(origin.strip())
        if origin.strip().lower() == "null" or parts.scheme not in ("http", "https") \
                or _host_name(parts.netloc) not in allowed:
            raise ApiError(403, "forbidden", "cross-origin requests are not accepted")


def unauthorized(reason: str, token_presented: bool) -> ApiError:
    challenge = 'Bearer realm="mirage"'
    if token_presented:
        challenge += ', error="invalid_token"'
    return ApiError(401, "unauthorized", reason,
                    headers={"WWW-Authenticate": challenge, "Cache-Control": "no-store"})


def make_gate(app):
    def gate(request: Request) -> None:
        request.ctx.gate_done = True
        request.ctx.principal = None
        check_host_origin(request, app.ctx.allowed_hosts)
        if request.path == OPEN_PATH and request.method in OPEN_METHODS:
            return
        try:
            request.ctx.principal = authenticate(request.headers.getall("authorization", []),
                                                 app.ctx.verifier)
        except AuthError as exc:
            log.warning("auth refused reason=%r method=%s path=%r peer=%s", exc.reason, request.method,
                        request.path[:200], request.ip)
            raise unauthorized(exc.reason, exc.token_presented) from None
        except BadCredentials as exc:
            log.warning("auth refused reason=%r method=%s path=%r peer=%s", exc.reason, request.method,
                        request.path[:200], request.ip)
            raise ApiError(400, "bad_request", exc.reason) from None

    return gate
