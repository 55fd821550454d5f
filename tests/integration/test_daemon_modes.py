"""`mirage daemon run` as a real subprocess in each auth mode, used over HTTP (urllib and
exact bytes on a socket), and its refusals to start (exit 2, one line naming the variable)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

TOKEN = "integration-Token_0123456789"


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(private_key) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def status_line(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def body_of(reply: bytes) -> dict:
    return json.loads(reply.split(b"\r\n\r\n", 1)[1])


# ---------------------------------------------------------------- local mode

def test_local_daemon_mints_a_private_token_file_and_accepts_only_that_token(daemon_factory):
    daemon = daemon_factory()
    token_path = daemon_factory.home / ".mirage" / "auth_token"
    token = token_path.read_text().strip()
    assert stat.S_IMODE(token_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_path.parent.stat().st_mode) == 0o700

    assert daemon.json("GET", "/v1/health")["status"] == "ok"
    status, headers, body = daemon.request("GET", "/v1/workspaces")
    assert status == 401
    assert headers["www-authenticate"] == 'Bearer realm="mirage"'
    assert headers["cache-control"] == "no-store"
    assert json.loads(body) == {"error": "unauthorized", "detail": "missing bearer token", "auth_mode": "local"}
    assert daemon.request("GET", "/v1/workspaces", token="not-the-token")[0] == 401
    assert daemon.request("GET", "/v1/workspaces", token=token)[0] == 200
    assert token not in daemon.output()


def test_local_daemon_restart_keeps_the_same_token(daemon_factory):
    first = daemon_factory()
    token = (daemon_factory.home / ".mirage" / "auth_token").read_text().strip()
    assert first.stop() == 0
    second = daemon_factory()
    assert (daemon_factory.home / ".mirage" / "auth_token").read_text().strip() == token
    assert second.request("GET", "/v1/workspaces", token=token)[0] == 200


def test_local_daemon_prefers_MIRAGE_AUTH_TOKEN_over_the_file(daemon_factory):
    daemon = daemon_factory({"MIRAGE_AUTH_TOKEN": TOKEN})
    assert daemon.request("GET", "/v1/workspaces", token=TOKEN)[0] == 200
    assert not (daemon_factory.home / ".mirage" / "auth_token").exists()


def test_local_daemon_refuses_a_group_readable_token_file(daemon_factory):
    folder = daemon_factory.home / ".mirage"
    daemon_factory.base_env()
    folder.mkdir(mode=0o700)
    token_path = folder / "auth_token"
    token_path.write_text("Readable-By-Group-Token\n")
    token_path.chmod(0o640)
    result = daemon_factory.run_to_exit()
    assert result.returncode == 2, result.stderr
    assert "auth.token_file" in result.stderr and str(token_path) in result.stderr
    assert "Readable-By-Group-Token" not in result.stderr + result.stdout


def test_local_daemon_refuses_a_symlinked_token_file(daemon_factory, tmp_path):
    folder = daemon_factory.home / ".mirage"
    daemon_factory.base_env()
    folder.mkdir(mode=0o700)
    target = tmp_path / "elsewhere"
    target.write_text("Some-Token\n")
    target.chmod(0o600)
    (folder / "auth_token").symlink_to(target)
    result = daemon_factory.run_to_exit()
    assert result.returncode == 2
    assert "symlink" in result.stderr and "auth.token_file" in result.stderr


# ---------------------------------------------------------------- token mode

def test_token_daemon_accepts_exactly_MIRAGE_AUTH_TOKEN(daemon_factory):
    daemon = daemon_factory({"MIRAGE_AUTH_MODE": "token", "MIRAGE_AUTH_TOKEN": TOKEN})
    assert daemon.request("GET", "/v1/workspaces", token=TOKEN)[0] == 200
    for wrong in (TOKEN[:-1], TOKEN + "x", TOKEN.upper()):
        status, headers, body = daemon.request("GET", "/v1/workspaces", token=wrong)
        assert status == 401
        assert headers["www-authenticate"] == 'Bearer realm="mirage", error="invalid_token"'
        assert wrong.encode() not in body
    assert daemon.request("GET", f"/v1/workspaces?access_token={TOKEN}")[0] == 401
    assert daemon.request("GET", "/v1/workspaces", headers={"Cookie": f"access_token={TOKEN}"})[0] == 401
    assert not (daemon_factory.home / ".mirage" / "auth_token").exists()
    assert TOKEN not in daemon.output()


def test_token_daemon_wire_rules_on_the_real_http_parser(daemon_factory):
    daemon = daemon_factory({"MIRAGE_AUTH_MODE": "token", "MIRAGE_AUTH_TOKEN": TOKEN})
    auth = f"Authorization: Bearer {TOKEN}\r\n".encode()

    def get(path: bytes, headers: bytes = b"Host: localhost\r\n", method: bytes = b"GET") -> bytes:
        return daemon.raw(method + b" " + path + b" HTTP/1.1\r\n" + headers + b"Connection: close\r\n\r\n")

    # the open route, and look-alikes sent byte for byte (no client normalisation)
    assert status_line(get(b"/v1/health")) == 200
    assert status_line(get(b"/v1/health", method=b"HEAD")) == 200
    for path in (b"/v1/health/", b"/v1//health", b"/V1/HEALTH", b"/v1/health/../x", b"/v1/%68ealth",
                 b"/./v1/health", b"/v1/health/.."):
        reply = get(path)
        assert status_line(reply) == 401, path
        assert body_of(reply)["error"] == "unauthorized"
    assert status_line(get(b"/v1/health?x", method=b"POST")) == 401
    assert status_line(get(b"/v1/health", method=b"OPTIONS")) == 401
    assert status_line(get(b"/v1/no/such/route")) == 401
    assert status_line(get(b"/v1/no/such/route", b"Host: localhost\r\n" + auth)) == 404
    # Host and Origin
    assert status_line(get(b"/v1/health", b"Host: evil.example:8765\r\n")) == 421
    assert status_line(get(b"/v1/health", b"Host: LOCALHOST:1\r\n")) == 200
    assert status_line(get(b"/v1/health", b"Host: localhost\r\nHost: localhost\r\n")) == 400
    assert status_line(daemon.raw(b"GET /v1/health HTTP/1.0\r\n\r\n")) == 400
    assert status_line(get(b"/v1/health", b"Host: localhost\r\nOrigin: http://evil.example\r\n")) == 403
    # Authorization
    assert status_line(get(b"/v1/workspaces", b"Host: localhost\r\n" + auth + auth)) == 400
    assert status_line(get(b"/v1/workspaces", b"Host: localhost\r\n" + auth.replace(b"Bearer", b"bEARER"))) == 200


def test_token_daemon_refuses_an_oversized_authorization_header_without_a_500(daemon_factory):
    daemon = daemon_factory({"MIRAGE_AUTH_MODE": "token", "MIRAGE_AUTH_TOKEN": TOKEN})
    reply = daemon.raw(b"GET /v1/workspaces HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                       + b"a" * (1 << 20) + b"\r\nConnection: close\r\n\r\n")
    if reply:       # the HTTP parser may answer (413/431/400) or just close the connection
        assert status_line(reply) in (400, 401, 413, 431)
    assert daemon.json("GET", "/v1/health")["status"] == "ok"     # still serving


def test_a_token_near_the_8_kib_limit_reaches_the_verifier_over_the_wire(daemon_factory):
    """Sanic's default 8 KiB header cap would cut such a request off before auth; ours leaves room."""
    daemon = daemon_factory({"MIRAGE_AUTH_MODE": "token", "MIRAGE_AUTH_TOKEN": TOKEN})
    reply = daemon.raw(b"GET /v1/workspaces HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                       + b"a" * 8150 + b"\r\nConnection: close\r\n\r\n")
    assert status_line(reply) == 401
    assert body_of(reply)["error"] == "unauthorized"


# ---------------------------------------------------------------- jwt mode

def test_jwt_daemon_accepts_its_signed_tokens_and_refuses_forgeries(daemon_factory, rsa_key, tmp_path):
    key_file = tmp_path / "jwt.pem"
    key_file.write_text(public_pem(rsa_key))
    daemon = daemon_factory({"MIRAGE_AUTH_MODE": "jwt", "MIRAGE_JWT_ALG": "RS256",
                             "MIRAGE_JWT_PUBKEY_FILE": str(key_file), "MIRAGE_JWT_AUDIENCE": "mirage"})
    now = int(time.time())
    good = jwt.encode({"sub": "carol", "aud": ["other", "mirage"], "exp": now + 600}, rsa_key, algorithm="RS256")
    assert daemon.request("GET", "/v1/workspaces", token=good)[0] == 200

    header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    payload = jwt.utils.base64url_encode(json.dumps({"sub": "carol", "aud": "mirage", "exp": now + 600}).encode())
    forged = {
        "alg none": f"{header}.{payload.decode()}.",
        "expired": jwt.encode({"sub": "carol", "aud": "mirage", "exp": now - 3600}, rsa_key, algorithm="RS256"),
        "wrong aud": jwt.encode({"sub": "carol", "aud": "other", "exp": now + 600}, rsa_key, algorithm="RS256"),
        "other key": jwt.encode({"sub": "carol", "aud": "mirage", "exp": now + 600},
                                rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256"),
        "padded": good + "==",
    }
    for name, token in forged.items():
        status, headers, body = daemon.request("GET", "/v1/workspaces", token=token)
        assert status == 401, name
        assert headers["www-authenticate"] == 'Bearer realm="mirage", error="invalid_token"'
        assert json.loads(body)["detail"] in ("invalid token", "token expired")
    assert good not in daemon.output()


def test_jwt_daemon_with_an_ec_key_in_MIRAGE_JWT_PUBKEY(daemon_factory):
    key = ec.generate_private_key(ec.SECP256R1())
    daemon = daemon_factory({"MIRAGE_AUTH_MODE": "jwt", "MIRAGE_JWT_ALG": "ES256",
                             "MIRAGE_JWT_PUBKEY": public_pem(key), "MIRAGE_JWT_ISSUER": "https://idp.example"})
    token = jwt.encode({"sub": "dave", "iss": "https://idp.example", "exp": int(time.time()) + 600}, key,
                       algorithm="ES256")
    assert daemon.request("GET", "/v1/workspaces", token=token)[0] == 200
    wrong_iss = jwt.encode({"sub": "dave", "iss": "https://evil.example", "exp": int(time.time()) + 600}, key,
                           algorithm="ES256")
    assert daemon.request("GET", "/v1/workspaces", token=wrong_iss)[0] == 401


# ---------------------------------------------------------------- refusals to start

def refusal(daemon_factory, env) -> str:
    result = daemon_factory.run_to_exit(env)
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stdout}{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stderr


def test_token_mode_without_MIRAGE_AUTH_TOKEN_refuses_to_start(daemon_factory):
    assert "MIRAGE_AUTH_TOKEN" in refusal(daemon_factory, {"MIRAGE_AUTH_MODE": "token"})


def test_jwt_mode_without_MIRAGE_JWT_ALG_refuses_to_start(daemon_factory, rsa_key):
    stderr = refusal(daemon_factory, {"MIRAGE_AUTH_MODE": "jwt", "MIRAGE_JWT_PUBKEY": public_pem(rsa_key)})
    assert "MIRAGE_JWT_ALG" in stderr


def test_jwt_mode_with_HS256_refuses_to_start(daemon_factory, rsa_key):
    stderr = refusal(daemon_factory, {"MIRAGE_AUTH_MODE": "jwt", "MIRAGE_JWT_ALG": "HS256",
                                      "MIRAGE_JWT_PUBKEY": public_pem(rsa_key)})
    assert "MIRAGE_JWT_ALG" in stderr


def test_jwt_mode_with_a_missing_key_file_refuses_to_start(daemon_factory, tmp_path):
    missing = tmp_path / "no-such-key.pem"
    stderr = refusal(daemon_factory, {"MIRAGE_AUTH_MODE": "jwt", "MIRAGE_JWT_ALG": "RS256",
                                      "MIRAGE_JWT_PUBKEY_FILE": str(missing)})
    assert "MIRAGE_JWT_PUBKEY_FILE" in stderr and str(missing) in stderr


def test_jwt_mode_with_an_unreadable_key_file_refuses_to_start(daemon_factory, tmp_path, rsa_key):
    key_file = tmp_path / "unreadable.pem"
    key_file.write_text(public_pem(rsa_key))
    key_file.chmod(0)
    wrapper: list[str] = []
    if os.geteuid() == 0:     # root reads anything: drop the capabilities that let it
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot make a file unreadable")
        wrapper = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    result = daemon_factory.run_to_exit({"MIRAGE_AUTH_MODE": "jwt", "MIRAGE_JWT_ALG": "RS256",
                                         "MIRAGE_JWT_PUBKEY_FILE": str(key_file)}, wrapper=wrapper)
    assert result.returncode == 2, result.stderr
    assert "MIRAGE_JWT_PUBKEY_FILE" in result.stderr and "permission denied" in result.stderr


def test_jwt_mode_with_a_garbage_key_file_refuses_to_start(daemon_factory, tmp_path):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("this is not a key\n")
    stderr = refusal(daemon_factory, {"MIRAGE_AUTH_MODE": "jwt", "MIRAGE_JWT_ALG": "RS256",
                                      "MIRAGE_JWT_PUBKEY_FILE": str(garbage)})
    assert "MIRAGE_JWT_PUBKEY_FILE" in stderr


def test_jwt_mode_with_a_1024_bit_rsa_key_refuses_to_start(daemon_factory):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    stderr = refusal(daemon_factory, {"MIRAGE_AUTH_MODE": "jwt", "MIRAGE_JWT_ALG": "RS256",
                                      "MIRAGE_JWT_PUBKEY": public_pem(weak)})
    assert "MIRAGE_JWT_PUBKEY" in stderr and "1024" in stderr


def test_jwt_mode_with_a_key_that_does_not_match_the_alg_refuses_to_start(daemon_factory):
    key = ec.generate_private_key(ec.SECP256R1())
    stderr = refusal(daemon_factory, {"MIRAGE_AUTH_MODE": "jwt", "MIRAGE_JWT_ALG": "RS256",
                                      "MIRAGE_JWT_PUBKEY": public_pem(key)})
    assert "MIRAGE_JWT_PUBKEY" in stderr and "RS256" in stderr


def test_bad_MIRAGE_PORT_refuses_to_start(daemon_factory):
    assert "MIRAGE_PORT" in refusal(daemon_factory, {"MIRAGE_PORT": "eighty"})


def test_unknown_MIRAGE_variable_refuses_to_start(daemon_factory):
    assert "MIRAGE_FOO" in refusal(daemon_factory, {"MIRAGE_FOO": "1"})


def test_refusal_never_prints_the_configured_secret(daemon_factory, rsa_key):
    stderr = refusal(daemon_factory, {"MIRAGE_AUTH_MODE": "token", "MIRAGE_AUTH_TOKEN": "has space secret"})
    assert "MIRAGE_AUTH_TOKEN" in stderr and "has space secret" not in stderr


def test_an_unusable_state_dir_refuses_to_start_with_one_line_naming_it(daemon_factory, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    stderr = refusal(daemon_factory, {"MIRAGE_AUTH_MODE": "token", "MIRAGE_AUTH_TOKEN": TOKEN,
                                      "MIRAGE_STATE_DIR": str(blocker / "state")})
    problem = [line for line in stderr.splitlines() if "config error" in line]
    assert len(problem) == 1 and "state_dir" in problem[0] and "MIRAGE_STATE_DIR" in problem[0]
