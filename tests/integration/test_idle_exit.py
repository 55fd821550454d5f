"""Idle exit: a socket-activated daemon with nothing to do exits 0; systemd restarts it
on the next connection (see test_systemd_activation for the socket kept across runs)."""

from __future__ import annotations

import signal
import socket
import subprocess

from systemd_helpers import (  # noqa: F401  (harness is a fixture)
    GOOD_TOKEN, call, connect, exercise_workspace, harness, http, port_refuses, read_response, request_bytes,
    start_on_socket, wait_read_by_server,
)


def test_socket_activated_daemon_exits_zero_after_the_idle_grace(harness):
    listener = harness.notify_listener()
    process, (address,) = harness.activated(
        harness.env(NOTIFY_SOCKET=listener.address, MIRAGE_IDLE_GRACE_SECONDS="1"))
    assert http(address)[0] == 200
    listener.wait_for("READY", "1")
    assert process.wait_exit() == 0
    stopping = listener.snapshot()[listener.wait_for("STOPPING", "1")]
    assert "idle" in stopping["STATUS"]
    log = process.log()
    assert "idle, exiting" in log and "stopped reason=idle" in log
    assert log.index("idle, exiting") < log.index("stopped reason=idle")


def test_idle_exit_waits_for_a_request_in_flight(harness):
    process, (address,) = harness.activated(harness.env(MIRAGE_IDLE_GRACE_SECONDS="1"))
    assert http(address)[0] == 200
    body = b"0123456789"
    with connect(address) as slow:
        slow.sendall(request_bytes("GET", "/v1/health", content_length=len(body)) + body[:2])
        wait_read_by_server(slow)
        # several grace periods pass with the request open: the daemon stays (it
        # would have exited after 1 s idle, as the test above shows)
        _sleep_through_grace_periods(process, periods=3)
        assert process.alive(), process.log()
        slow.sendall(body[2:])
        status, _, _ = read_response(slow)
    assert status == 200
    assert process.wait_exit() == 0                    # and then it goes idle and exits
    assert "stopped reason=idle" in process.log()


def test_daemon_that_bound_its_own_port_never_idles_out(harness):
    env = harness.env(MIRAGE_IDLE_GRACE_SECONDS="1")
    process = harness.bound(env)
    process.wait_log("ready")
    address = f"127.0.0.1:{env['MIRAGE_PORT']}"
    assert http(address)[0] == 200
    _sleep_through_grace_periods(process, periods=3)
    assert process.alive() and "idle" not in process.log()
    assert http(address)[0] == 200
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0
    assert port_refuses(int(env["MIRAGE_PORT"]))


def test_zero_idle_grace_disables_idle_exit(harness):
    process, (address,) = harness.activated(harness.env(MIRAGE_IDLE_GRACE_SECONDS="0"))
    assert http(address)[0] == 200
    _sleep_through_grace_periods(process, periods=3)
    assert process.alive() and "idle" not in process.log()
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0


def _sleep_through_grace_periods(process, periods: int, grace: float = 1.0) -> None:
    """Let ``periods`` idle grace periods pass (waiting on the process, which must not exit)."""
    try:
        process.popen.wait(timeout=periods * grace + 0.5)
    except subprocess.TimeoutExpired:
        return
    raise AssertionError(f"the daemon exited early (log: {process.log()!r})")



def test_workspaces_and_their_files_come_back_after_an_idle_exit(harness, tmp_path):
    """The socket stays (the test plays systemd), the daemon idles out, the next
    connection is answered by a new daemon that restored the workspace and its bytes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    address = "127.0.0.1:%d" % listener.getsockname()[1]
    env = harness.env(MIRAGE_IDLE_GRACE_SECONDS="1")
    try:
        first = harness.track(start_on_socket(listener, env, tmp_path / "first.log"))
        exercise_workspace(address, GOOD_TOKEN, "kept")
        assert first.wait_exit() == 0 and "stopped reason=idle" in first.log()

        second = harness.track(start_on_socket(listener, env, tmp_path / "second.log"))
        status, result = call(address, "POST", "/v1/workspaces/kept/shell", GOOD_TOKEN, {"command": "cat /greeting"})
        assert status == 200 and result["stdout"] == "hello\n", result
        second.signal(signal.SIGTERM)
        assert second.wait_exit() == 0
    finally:
        listener.close()
