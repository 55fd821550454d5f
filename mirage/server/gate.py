"""The gate every request passes before its handler: Host/Origin check, then auth.

Order matters: a foreign Host (DNS rebinding) is refused before anything else,
even on /v1/health; then everything but GET/HEAD /v1/health needs a bearer token.

* Host: exactly one, non-empty (else 400); its name (any port, any case) must be in
  ``server.allowed_hosts`` (else 421). A malformed Host (bad port, junk after ``]``) → 400.
* Origin: when present, each must be ``http(s)://<allowed name>[:port]`` (else 403;
  ``null`` and other schemes included). ``*`` in the allow-list turns both checks off.
* Open route: exactly ``GET``/``HEAD`` on the raw path ``/v1/health`` (Sanic's
  ``request.path`` is the raw, undecoded, unnormalised path; the query string is not part
  of it). ``/v1/health/``, ``/v1//health``, ``/V1/HEALTH``, ``/v1/%68ealth``,
  ``/v1/health/../x`` and every other method need a token like any other path.
* Auth failures: 401 ``{"error": "unauthorized", "detail": <generic>}`` with
  ``WWW-Authenticate: Bearer realm="mirage"`` (plus ``error="invalid_token"`` when a token
  was presented) and ``Cache-Control: no-store``; two Authorization headers → 400.
  A warning line logs the reason — never the token.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from sanic.request import Request

from mirage.auth.guard import authenticate
from mirage.auth.principal import AuthError, BadCredentials
from mirage.server.errors import ApiError

log = logging.getLogger("mirage.auth")

OPEN_PATH = "/v1/health"
OPEN_METHODS = frozenset({"GET", "HEAD"})
_OPEN_ROUTE_PATH = OPEN_PATH.lstrip("/")     # how Sanic spells a route's path
REALM = "mirage"

# name[:port] where name is a bracketed IPv6 literal or a plain name/IPv4 address
_HOST_VALUE = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[^\s\[\]:/@?#\\]+)(?::(?P<port>[0-9]{0,5}))?")


def host_name(value: str) -> str | None:
    """'Example.com:8765' -> 'example.com'; '[::1]:80' -> '[::1]'; malformed -> None."""
    match = _HOST_VALUE.fullmatch(value.strip())
    if match is None:
        return None
    return match.group("name").lower()


def check_host_origin(request: Request, allowed: frozenset[str]) -> None:
    hosts = request.headers.getall("host", [])
    if len(hosts) != 1 or not hosts[0].strip():
        raise ApiError(400, "bad_request", "exactly one Host header is required")
    if "*" in allowed:
        return
    host = host_name(hosts[0])
    if host is None:
        raise ApiError(400, "bad_request", "malformed Host header")
    if host not in allowed:
        raise ApiError(421, "misdirected_request", "Host is not served here")
    for origin in request.headers.getall("origin", []):
        if not _origin_allowed(origin, allowed):
            raise ApiError(403, "forbidden", "cross-origin requests are not accepted")


def _origin_allowed(origin: str, allowed: frozenset[str]) -> bool:
    origin = origin.strip()
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or parts.path not in ("", "/") \
            or parts.query or parts.fragment or "@" in parts.netloc:
        return False
    name = host_name(parts.netloc)
    return name is not None and name in allowed


def unauthorized(reason: str, token_presented: bool, auth_mode: str) -> ApiError:
    """The 401. ``auth_mode`` (local | token | jwt) tells a client where to find a token;
    it names a mode, never a token, key or path."""
    challenge = f'Bearer realm="{REALM}"'
    if token_presented:
        challenge += ', error="invalid_token"'
    return ApiError(401, "unauthorized", reason, auth_mode=auth_mode,
                    headers={"WWW-Authenticate": challenge, "Cache-Control": "no-store"})


def bad_credentials(reason: str) -> ApiError:
    return ApiError(400, "bad_request", reason,
                    headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_request"',
                             "Cache-Control": "no-store"})


def is_open(request: Request) -> bool:
    """Only GET/HEAD on exactly /v1/health needs no token: the raw path must be exactly
    that, and the route Sanic resolved (when routing ran) must be the /v1/health route —
    so a dynamic route that happened to match the path never opens anything."""
    if request.method not in OPEN_METHODS or request.path != OPEN_PATH:
        return False
    route = request.route
    return route is None or route.path == _OPEN_ROUTE_PATH


def make_gate(app):
    def gate(request: Request) -> None:
        request.ctx.gate_done = True
        request.ctx.principal = None
        check_host_origin(request, app.ctx.allowed_hosts)
        if is_open(request):
            return
        try:
            request.ctx.principal = authenticate(request.headers.getall("authorization", []),
                                                 app.ctx.verifier)
        except AuthError as exc:
            _log_refusal(request, exc.why)
            raise unauthorized(exc.reason, exc.token_presented, app.ctx.verifier.mode) from None
        except BadCredentials as exc:
            _log_refusal(request, exc.reason)
            raise bad_credentials(exc.reason) from None

    return gate


def _log_refusal(request: Request, why: str) -> None:
    # %r escapes control characters, so a hostile path cannot forge log lines
    log.warning("auth refused reason=%r method=%s path=%r peer=%s", why, request.method[:16],
                request.path[:200], request.ip)
