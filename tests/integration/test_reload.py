"""SIGHUP reload (systemctl reload mirage): rotate credentials, keep sockets and requests."""

from __future__ import annotations

import signal

from systemd_helpers import (  # noqa: F401  (harness is a fixture)
    GOOD_TOKEN, OTHER_TOKEN, connect, harness, http, read_response, request_bytes, wait_read_by_server,
    write_config,
)


def _reload_and_wait(process, listener) -> None:
    before = len(listener.snapshot())
    process.signal(signal.SIGHUP)
    reloading = listener.wait_for("RELOADING", "1", after=before)
    listener.wait_for("READY", "1", after=reloading + 1)


def test_rotated_token_is_enforced_after_sighup_while_a_request_in_flight_completes(harness, tmp_path):
    listener = harness.notify_listener()
    process, (address,) = harness.activated(harness.env(NOTIFY_SOCKET=listener.address))
    probe = "/v1/reload-probe"                      # no such route: 404 once authenticated
    assert http(address, path=probe, token=GOOD_TOKEN)[0] == 404
    assert http(address, path=probe, token=OTHER_TOKEN)[0] == 401
    listener.wait_for("READY", "1")

    body = b"x" * 64
    with connect(address) as kept, connect(address) as in_flight:
        # a keep-alive connection opened (and used) before the reload
        kept.sendall(request_bytes("GET", "/v1/health", keep_alive=True))
        assert read_response(kept)[0] == 200
        # a request whose body is still arriving when the reload happens
        in_flight.sendall(request_bytes("GET", "/v1/health", content_length=len(body)) + body[:10])
        wait_read_by_server(in_flight)

        write_config(tmp_path / "mirage.yaml", token=OTHER_TOKEN)
        _reload_and_wait(process, listener)

        in_flight.sendall(body[10:])
        status, _, payload = read_response(in_flight)
        assert status == 200 and b'"status":"ok"' in payload
        kept.sendall(request_bytes("GET", probe, token=OTHER_TOKEN, keep_alive=True))
        assert read_response(kept)[0] == 404           # same connection, new token accepted

    assert http(address, path=probe, token=GOOD_TOKEN)[0] == 401
    assert http(address, path=probe, token=OTHER_TOKEN)[0] == 404
    assert "reloaded changed=auth.token" in process.log()
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0


def test_broken_yaml_on_sighup_keeps_the_old_settings_and_logs_why(harness, tmp_path):
    listener = harness.notify_listener()
    process, (address,) = harness.activated(harness.env(NOTIFY_SOCKET=listener.address))
    probe = "/v1/reload-probe"
    assert http(address, path=probe, token=GOOD_TOKEN)[0] == 404
    listener.wait_for("READY", "1")

    config = tmp_path / "mirage.yaml"
    config.write_text(f"auth:\n  mode: token\n  token: {OTHER_TOKEN}\n  [broken\n")
    _reload_and_wait(process, listener)
    error = process.wait_log(r"ERROR mirage\.daemon: reload refused, keeping the running config problem=(.*)")
    assert str(config) in error.group(1) and "invalid YAML" in error.group(1)
    assert http(address, path=probe, token=GOOD_TOKEN)[0] == 404     # old settings still serve
    assert http(address, path=probe, token=OTHER_TOKEN)[0] == 401
    refused = [m for m in listener.snapshot() if m.get("READY") == "1"][-1]
    assert refused["STATUS"].endswith("; last reload refused (see the log)")

    config.write_text("auth:\n  mode: token\n  token: ''\n")   # valid YAML, invalid settings
    _reload_and_wait(process, listener)
    process.wait_log(r"reload refused, keeping the running config problem=.*auth\.token")
    assert http(address, path=probe, token=GOOD_TOKEN)[0] == 404
    assert OTHER_TOKEN not in process.log() and GOOD_TOKEN not in process.log()

    write_config(config, token=OTHER_TOKEN)                # a good config clears the note
    _reload_and_wait(process, listener)
    assert http(address, path=probe, token=OTHER_TOKEN)[0] == 404
    assert "refused" not in [m for m in listener.snapshot() if m.get("READY") == "1"][-1]["STATUS"]
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0


def test_log_level_change_takes_effect_on_reload(harness, tmp_path):
    listener = harness.notify_listener()
    process, (address,) = harness.activated(harness.env(NOTIFY_SOCKET=listener.address))
    assert http(address, path="/v1/level-probe-before", token=GOOD_TOKEN)[0] == 404
    process.wait_log(r"INFO mirage\.access: request .*path=/v1/level-probe-before")
    listener.wait_for("READY", "1")

    write_config(tmp_path / "mirage.yaml", extra="log:\n  level: warning\n")
    _reload_and_wait(process, listener)
    assert http(address, path="/v1/level-probe-after", token=GOOD_TOKEN)[0] == 404
    assert http(address, path="/v1/level-probe-after", token="wrong-token")[0] == 401
    process.wait_log(r"WARNING mirage\.auth: auth refused .*path='/v1/level-probe-after'")
    assert "path=/v1/level-probe-after" not in process.log()          # info access lines are off
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0


def test_reload_keeps_command_line_flags_over_the_file(harness, tmp_path):
    listener = harness.notify_listener()
    env = harness.env(NOTIFY_SOCKET=listener.address)
    port = env.pop("MIRAGE_PORT")
    process = harness.bound(env, args=["--port", port])
    listener.wait_for("READY", "1")
    address = f"127.0.0.1:{port}"
    assert http(address, path="/v1/p", token=GOOD_TOKEN)[0] == 404

    other_port = str(int(port) + 1 if int(port) < 65535 else int(port) - 1)
    write_config(tmp_path / "mirage.yaml", token=OTHER_TOKEN, extra=f"server:\n  port: {other_port}\n")
    _reload_and_wait(process, listener)
    process.wait_log("reloaded changed=auth.token auth=")      # server.port: --port still wins
    assert "listening address changes need a restart" not in process.log()
    assert http(address, path="/v1/p", token=OTHER_TOKEN)[0] == 404
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0


def test_a_reloaded_body_limit_applies_to_new_connections(harness, tmp_path):
    listener = harness.notify_listener()
    process, (address,) = harness.activated(harness.env(NOTIFY_SOCKET=listener.address))
    body = b'{"config": {}, "id": "big"}' + b" " * 4000
    assert http(address, "POST", "/v1/workspaces", GOOD_TOKEN, body)[0] == 201
    listener.wait_for("READY", "1")

    write_config(tmp_path / "mirage.yaml", extra="server:\n  max_body_bytes: 2048\n")
    _reload_and_wait(process, listener)
    status, payload = http(address, "POST", "/v1/workspaces", GOOD_TOKEN, body)
    assert status == 413 and b"payload_too_large" in payload
    assert "server.max_body_bytes" in process.log()
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0
