"""Socket activation with the real systemd-socket-activate binary."""

from __future__ import annotations

import os
import re
import socket

import pytest

from systemd_helpers import (  # noqa: F401  (harness is a fixture)
    GOOD_TOKEN, connect, free_port, harness, http, listening_inodes, port_refuses, read_response, request_bytes,
    start_on_socket,
)


def test_first_connection_starts_the_daemon_which_answers_it_and_binds_nothing(harness):
    env = harness.env()
    process, (address,) = harness.activated(env)
    # before any connection only the activator runs: no daemon has logged anything
    assert "mirage.daemon" not in process.log()

    status, body = http(address)                       # this connection starts the daemon
    assert status == 200 and b'"status":"ok"' in body
    process.wait_log(r"mirage\.daemon: ready .*listen=" + re.escape(address) + r"\[fd3:http\]")

    # the daemon (same pid: the activator exec'd it) listens on exactly fd 3, the
    # activator's socket, and did not bind its own server.port
    assert listening_inodes(process.pid).keys() == {3}
    assert port_refuses(int(env["MIRAGE_PORT"]))
    assert http(address, path="/v1/anything", token=GOOD_TOKEN)[0] == 404
    process.signal(15)
    assert process.wait_exit() == 0


def test_two_listening_sockets_tcp_and_unix_are_both_served(harness, tmp_path):
    unix_path = str(tmp_path / "mirage.sock")
    process, (tcp_address, _) = harness.activated(harness.env(), listen=[f"127.0.0.1:{free_port()}", unix_path],
                                                   fdnames=["http", "local"])
    assert http(unix_path)[0] == 200                    # the unix socket starts it
    assert http(tcp_address)[0] == 200
    assert http(unix_path, path="/v1/nothing-here", token=GOOD_TOKEN)[0] == 404
    assert http(unix_path, path="/v1/nothing-here", token="wrong")[0] == 401
    assert http(tcp_address, path="/v1/nothing-here", token="wrong")[0] == 401
    ready = process.wait_log(r"ready listen=(\S+)").group(1)
    assert "[fd3:http]" in ready and f"{unix_path}[fd4:local]" in ready
    assert listening_inodes(process.pid).keys() == {3, 4}
    process.signal(15)
    assert process.wait_exit() == 0
    # the daemon only close()d the sockets it was given; the path stays (systemd owns it)
    assert os.path.exists(unix_path)


def test_ipv4_and_ipv6_loopback_sockets_like_mirage_socket_are_both_served(harness):
    if not socket.has_ipv6 or not _ipv6_loopback_works():
        pytest.skip("no IPv6 loopback on this machine")
    port = free_port()
    process, _ = harness.activated(harness.env(), listen=[f"127.0.0.1:{port}", f"[::1]:{port}"],
                                   fdnames=["http", "http"])
    assert http(f"[::1]:{port}")[0] == 200
    assert http(f"127.0.0.1:{port}")[0] == 200
    assert listening_inodes(process.pid).keys() == {3, 4}
    process.signal(15)
    assert process.wait_exit() == 0


def test_listening_socket_outlives_the_daemon_and_the_next_daemon_answers_the_queued_connection(harness, tmp_path):
    """What systemd does with mirage.socket: it keeps the socket across daemon runs.

    systemd-socket-activate execs the daemon in place, so nothing holds the socket
    after the daemon exits; here the test process plays systemd's part: it owns the
    listening socket, hands it to a daemon as fd 3, and after that daemon's idle exit
    a client connects (the kernel queues it) and a second daemon answers it. Had the
    first daemon called shutdown() on the socket instead of close(), the connection
    would be refused.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    address = "127.0.0.1:%d" % listener.getsockname()[1]
    env = harness.env(MIRAGE_IDLE_GRACE_SECONDS="1")

    def start_daemon(log_name: str) -> Process:
        return harness.track(start_on_socket(listener, env, tmp_path / log_name))

    first = start_daemon("first.log")
    first.wait_log("ready")
    assert http(address)[0] == 200
    assert first.wait_exit() == 0                      # idle exit after 1 s
    assert "idle, exiting" in first.log()

    with connect(address) as client:                   # queued by the kernel: nobody accepts yet
        client.sendall(request_bytes("GET", "/v1/health"))
        second = start_daemon("second.log")
        status, _, body = read_response(client)
    assert status == 200 and b'"status":"ok"' in body
    second.signal(15)
    assert second.wait_exit() == 0
    listener.close()


def _ipv6_loopback_works() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False
