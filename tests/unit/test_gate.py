"""The gate through the real Sanic app (sanic-testing's ASGI client; no sockets).

Covers: the one open route and its look-alikes, 401 shape and challenge, header rules
seen over HTTP, tokens never taken from query/cookie/body, and the Host/Origin check.
Raw paths that httpx would normalise (``/v1/health/../x``) and a request with no Host
header at all are sent as hand-built ASGI scopes (see ``raw_call``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os

import pytest

from mirage.server.app import create_app
from mirage.settings import load_settings

TOKEN = "t0k3n-For.Tests_~+/x=="
AUTH = {"authorization": f"Bearer {TOKEN}"}
HOST = {"host": "localhost:8765"}


def make_app(tmp_path, **env):
    base = {"HOME": str(tmp_path), "MIRAGE_AUTH_MODE": "token", "MIRAGE_AUTH_TOKEN": TOKEN}
    base.update(env)
    app = create_app(load_settings(env=base, config_path=os.devnull))

    @app.route("/v1/test/whoami", methods=["GET", "POST", "HEAD", "OPTIONS"])
    async def whoami(request):
        from sanic import json as sanic_json
        principal = request.ctx.principal
        return sanic_json({"account": principal.account, "mode": principal.mode})

    return app


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def call(app, method="GET", path="/v1/health", headers=None, **kwargs):
    """One request through sanic-testing's ASGI client. ``headers`` may be a dict (a
    default Host is added) or a list of pairs (sent exactly as given)."""
    if headers is None or isinstance(headers, dict):
        headers = {**HOST, **(headers or {})}

    async def go():
        _, response = await app.asgi_client.request(method, path, headers=headers, **kwargs)
        return response

    return asyncio.run(go())


def raw_call(app, method: str, raw_path: bytes, headers: list[tuple[bytes, bytes]]):
    """Send an exact ASGI scope (no client-side path normalisation, Host optional).
    Returns (status, headers dict, body bytes)."""

    async def go():
        await app.asgi_client.request("GET", "/v1/health", headers=HOST)   # starts the app
        sent = []
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": raw_path.decode("latin-1"), "raw_path": raw_path,
                 "query_string": b"", "root_path": "", "headers": headers,
                 "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8765)}

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await app(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, body

    return asyncio.run(go())


# ---------------------------------------------------------------- the open route

def test_health_get_is_open_without_token(app):
    response = call(app, "GET", "/v1/health")
    assert response.status == 200
    body = response.json
    assert body["status"] == "ok" and set(body) == {"status", "version", "uptime_s", "workspaces"}


def test_health_head_is_open_without_token(app):
    response = call(app, "HEAD", "/v1/health")
    assert response.status == 200


def test_health_get_with_query_string_is_open(app):
    assert call(app, "GET", "/v1/health?x=1").status == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_on_health_need_a_token(app, method):
    response = call(app, method, "/v1/health?x")
    assert response.status == 401
    assert response.json["error"] == "unauthorized"


@pytest.mark.parametrize("raw_path", [
    b"/v1/health/", b"/v1//health", b"/V1/HEALTH", b"/v1/Health", b"/v1/health/../x", b"/v1/health/..",
    b"/v1/%68ealth", b"/v1/health%2F", b"/./v1/health", b"/v1/./health", b"//v1/health", b"/v1/health;x",
    b"/v1/health%00", b"/v1/healthz", b"/v1/health/x",
])
def test_health_lookalike_paths_are_not_open(app, raw_path):
    status, headers, body = raw_call(app, "GET", raw_path, [(b"host", b"localhost")])
    assert status == 401, raw_path
    assert json.loads(body)["error"] == "unauthorized"
    assert headers["www-authenticate"] == 'Bearer realm="mirage"'


def test_sanic_request_path_is_the_raw_unnormalised_path(app, monkeypatch):
    """What the open-route check compares: Sanic's request.path is the raw path as sent
    (no percent-decoding, no dot-segment or slash folding, no case change)."""
    from mirage.server import gate as gate_module

    seen = []
    real_is_open = gate_module.is_open

    def recording_is_open(request):
        seen.append(request.path)
        return real_is_open(request)

    monkeypatch.setattr(gate_module, "is_open", recording_is_open)
    raws = [b"/v1/health/../x", b"/v1/%68ealth", b"/V1/HEALTH", b"/v1//health", b"/./v1/health"]
    for raw in raws:
        raw_call(app, "GET", raw, [(b"host", b"localhost")])
    assert [path for path in seen if path != "/v1/health"] == [raw.decode() for raw in raws]


def test_open_path_served_by_another_route_is_not_open(tmp_path):
    """If /v1/health were ever resolved to a different route (here: a catch-all, with the
    health route absent), the path alone must not open it."""
    from sanic import Sanic
    from sanic import json as sanic_json

    from mirage.server.app import apply_settings
    from mirage.server.errors import install_error_handlers
    from mirage.server.gate import make_gate

    settings = load_settings(env={"HOME": str(tmp_path), "MIRAGE_AUTH_MODE": "token", "MIRAGE_AUTH_TOKEN": TOKEN},
                             config_path=os.devnull)
    bare = Sanic("gate_catch_all")
    apply_settings(bare, settings)
    gate = make_gate(bare)

    @bare.on_request(priority=1000)
    async def run_gate(request):
        gate(request)

    install_error_handlers(bare, gate)

    @bare.get("/v1/<anything>")
    async def catch_all(request, anything):
        return sanic_json({"secret": "behind the gate"})

    response = call(bare, "GET", "/v1/health")
    assert response.status == 401
    assert "secret" not in response.text


def test_health_lookalike_with_valid_token_passes_the_gate(app):
    # the look-alikes are ordinary protected paths: with a token they route normally
    status, _, _ = raw_call(app, "GET", b"/v1/health/../x",
                            [(b"host", b"localhost"), (b"authorization", f"Bearer {TOKEN}".encode())])
    assert status == 404


def test_unknown_path_without_token_is_401_not_404(app):
    response = call(app, "GET", "/v1/no/such/thing")
    assert response.status == 401


def test_unknown_path_with_token_is_404(app):
    assert call(app, "GET", "/v1/no/such/thing", headers=AUTH).status == 404


def test_options_without_token_is_401(app):
    assert call(app, "OPTIONS", "/v1/test/whoami").status == 401
    assert call(app, "OPTIONS", "/v1/no/such/thing").status == 401


def test_head_on_a_protected_path_without_token_is_401(app):
    assert call(app, "HEAD", "/v1/test/whoami").status == 401
    assert call(app, "HEAD", "/v1/no/such/thing").status == 401


def test_protected_route_with_valid_token_acts_for_the_static_account(app):
    response = call(app, "GET", "/v1/test/whoami", headers=AUTH)
    assert response.status == 200
    assert response.json == {"account": "local", "mode": "token"}


# ---------------------------------------------------------------- the 401 answer

def test_401_without_token_challenges_without_error_code(app):
    response = call(app, "GET", "/v1/test/whoami")
    assert response.status == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="mirage"'
    assert response.headers["cache-control"] == "no-store"
    assert response.json == {"error": "unauthorized", "detail": "missing bearer token", "auth_mode": "token"}


def test_401_with_wrong_token_says_invalid_token(app):
    response = call(app, "GET", "/v1/test/whoami", headers={"authorization": "Bearer wrong-token"})
    assert response.status == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="mirage", error="invalid_token"'
    assert response.headers["cache-control"] == "no-store"
    assert response.json == {"error": "unauthorized", "detail": "invalid token", "auth_mode": "token"}


def test_401_never_echoes_the_presented_token(app):
    presented = "Sup3rSecretPresentedValue-1234567890"
    response = call(app, "GET", "/v1/test/whoami", headers={"authorization": f"Bearer {presented}"})
    assert response.status == 401
    assert presented not in response.text
    assert all(presented not in value for value in response.headers.values())


def test_auth_refusal_is_logged_at_warning_without_the_token(app, caplog):
    presented = "LoggedNeverValue-abcdef0123456789"
    with caplog.at_level(logging.WARNING, logger="mirage.auth"):
        call(app, "GET", "/v1/test/whoami", headers={"authorization": f"Bearer {presented}"})
    refusals = [r for r in caplog.records if r.name == "mirage.auth" and r.levelno == logging.WARNING]
    assert refusals, "expected a warning line for the refusal"
    assert "token does not match" in refusals[-1].getMessage()
    assert presented not in caplog.text
    assert TOKEN not in caplog.text


# ---------------------------------------------------------------- header rules over HTTP

@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(app, scheme):
    response = call(app, "GET", "/v1/test/whoami", headers={"authorization": f"{scheme} {TOKEN}"})
    assert response.status == 200


def test_two_authorization_headers_are_400(app):
    headers = [("host", "localhost"), ("authorization", f"Bearer {TOKEN}"), ("authorization", f"Bearer {TOKEN}")]
    response = call(app, "GET", "/v1/test/whoami", headers=headers)
    assert response.status == 400
    assert response.json["error"] == "bad_request"
    assert "Authorization" in response.json["detail"]
    assert response.headers["www-authenticate"] == 'Bearer realm="mirage", error="invalid_request"'


def test_basic_credentials_are_401_without_error_code(app):
    response = call(app, "GET", "/v1/test/whoami", headers={"authorization": "Basic dXNlcjpwYXNz"})
    assert response.status == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="mirage"'


@pytest.mark.parametrize("value", [
    f"Bearer {TOKEN} extra", f"Bearer {TOKEN},", 'Bearer "quoted"', "Bearer tok en", "Bearer =abc",
    "Bearer a=b", "Bearer tok\u00e9n",
])
def test_token_outside_the_b64token_charset_is_401(app, value):
    response = call(app, "GET", "/v1/test/whoami", headers=[("host", "localhost"),
                                                             ("authorization", value.encode("utf-8"))])
    assert response.status == 401
    assert response.headers["www-authenticate"].endswith('error="invalid_token"')


def test_one_megabyte_authorization_header_is_401(app):
    response = call(app, "GET", "/v1/test/whoami", headers={"authorization": "Bearer " + "a" * (1 << 20)})
    assert response.status == 401


def test_token_in_query_string_is_not_accepted(app):
    response = call(app, "GET", f"/v1/test/whoami?access_token={TOKEN}&token={TOKEN}")
    assert response.status == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="mirage"'


def test_token_in_cookie_is_not_accepted(app):
    response = call(app, "GET", "/v1/test/whoami",
                    headers={"cookie": f"access_token={TOKEN}; token={TOKEN}; mirage_token={TOKEN}"})
    assert response.status == 401


def test_token_in_form_body_is_not_accepted(app):
    response = call(app, "POST", "/v1/test/whoami", data={"access_token": TOKEN},
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status == 401


def test_token_in_json_body_is_not_accepted(app):
    response = call(app, "POST", "/v1/test/whoami", content=json.dumps({"access_token": TOKEN, "token": TOKEN}),
                    headers={"content-type": "application/json"})
    assert response.status == 401


# ---------------------------------------------------------------- Host and Origin

@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "EVIL.example:80", "localhost.evil.example",
                                  "127.0.0.1.nip.io", "localhost.", "[::2]:8765", "0.0.0.0:8765", "10.0.0.1"])
def test_foreign_host_is_421_even_on_health(app, host):
    response = call(app, "GET", "/v1/health", headers={"host": host})
    assert response.status == 421
    assert response.json["error"] == "misdirected_request"


def test_foreign_host_is_421_before_auth(app):
    assert call(app, "GET", "/v1/test/whoami", headers={"host": "evil.example"}).status == 421
    assert call(app, "GET", "/v1/test/whoami", headers={"host": "evil.example", **AUTH}).status == 421


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "LocalHost:1", "localhost:65535", "127.0.0.1",
                                  "127.0.0.1:8765", "[::1]", "[::1]:8765", "localhost:"])
def test_allowed_host_is_accepted_with_any_port_and_case(app, host):
    assert call(app, "GET", "/v1/health", headers={"host": host}).status == 200


@pytest.mark.parametrize("host", ["localhost:abc", "localhost:8765:1", "[::1]junk", "user@localhost",
                                  "local host", "localhost/x", "[::1"])
def test_malformed_host_is_400(app, host):
    response = call(app, "GET", "/v1/health", headers={"host": host})
    assert response.status == 400


def test_missing_host_is_400(app):
    status, _, body = raw_call(app, "GET", b"/v1/health", [])
    assert status == 400
    assert json.loads(body)["detail"] == "exactly one Host header is required"


def test_empty_host_is_400(app):
    assert call(app, "GET", "/v1/health", headers={"host": ""}).status == 400


def test_duplicate_host_is_400_even_if_both_are_allowed(app):
    response = call(app, "GET", "/v1/health", headers=[("host", "localhost"), ("host", "localhost")])
    assert response.status == 400


@pytest.mark.parametrize("origin", ["http://evil.example", "https://evil.example:8765", "null",
                                    "file://", "chrome-extension://abcdef", "http://localhost.evil.example",
                                    "http://user@localhost", "http://localhost/path", "not a url"])
def test_foreign_origin_is_403_even_with_a_valid_token(app, origin):
    assert call(app, "GET", "/v1/health", headers={"origin": origin}).status == 403
    response = call(app, "GET", "/v1/test/whoami", headers={"origin": origin, **AUTH})
    assert response.status == 403
    assert response.json["error"] == "forbidden"


@pytest.mark.parametrize("origin", ["http://localhost:8765", "http://LOCALHOST:3000", "https://127.0.0.1",
                                    "http://[::1]:8765", "http://localhost/"])
def test_allowed_origin_is_accepted(app, origin):
    assert call(app, "GET", "/v1/test/whoami", headers={"origin": origin, **AUTH}).status == 200


def test_star_in_allowed_hosts_turns_host_and_origin_checks_off(tmp_path):
    app = make_app(tmp_path, MIRAGE_ALLOWED_HOSTS="*")
    assert call(app, "GET", "/v1/health", headers={"host": "evil.example:1"}).status == 200
    assert call(app, "GET", "/v1/health", headers={"host": "evil.example", "origin": "http://evil.example"}).status == 200
    # ... but never the auth check, and a Host header is still required
    assert call(app, "GET", "/v1/test/whoami", headers={"host": "evil.example"}).status == 401
    status, _, _ = raw_call(app, "GET", b"/v1/health", [])
    assert status == 400


def test_configured_allowed_hosts_replace_the_loopback_defaults(tmp_path):
    app = make_app(tmp_path, MIRAGE_ALLOWED_HOSTS="mirage.internal,[fd00::1]")
    assert call(app, "GET", "/v1/health", headers={"host": "Mirage.Internal:443"}).status == 200
    assert call(app, "GET", "/v1/health", headers={"host": "[FD00::1]:8765"}).status == 200
    assert call(app, "GET", "/v1/health", headers={"host": "localhost"}).status == 421
