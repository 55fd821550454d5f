"""sd_notify with a real AF_UNIX datagram NOTIFY_SOCKET listener."""

from __future__ import annotations

import re
import signal

from systemd_helpers import (  # noqa: F401  (harness is a fixture)
    GOOD_TOKEN, connect, harness, http, read_response, request_bytes, wait_read_by_server, wait_until,
)


def test_ready_is_sent_only_when_the_bound_port_already_answers(harness):
    listener = harness.notify_listener()
    env = harness.env(NOTIFY_SOCKET=listener.address)
    port = int(env["MIRAGE_PORT"])
    process = harness.bound(env)
    listener.wait_for("READY", "1")
    # at the moment READY=1 arrived the socket was already listening: no retry needed
    status, _ = http(f"127.0.0.1:{port}")
    assert status == 200
    assert listener.count("READY", "1") == 1
    assert "serving 0 workspaces" in listener.snapshot()[listener.wait_for("READY", "1")]["STATUS"]
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0


def test_socket_activated_daemon_answers_the_first_connection_and_reports_ready(harness):
    listener = harness.notify_listener()
    process, (address,) = harness.activated(harness.env(NOTIFY_SOCKET=listener.address))
    assert listener.snapshot() == []                   # nothing started yet
    assert http(address)[0] == 200
    ready = listener.snapshot()[listener.wait_for("READY", "1")]
    assert re.fullmatch(r"serving 0 workspaces, \d+ requests? served \(auth=token\)", ready["STATUS"])
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0


def test_abstract_notify_socket_receives_ready(harness):
    listener = harness.notify_listener(abstract=True)
    assert listener.address.startswith("@")
    process, (address,) = harness.activated(harness.env(NOTIFY_SOCKET=listener.address))
    assert http(address)[0] == 200
    listener.wait_for("READY", "1")
    process.signal(signal.SIGTERM)
    listener.wait_for("STOPPING", "1")
    assert process.wait_exit() == 0


def test_status_line_follows_the_requests_served(harness):
    listener = harness.notify_listener()
    process, (address,) = harness.activated(harness.env(NOTIFY_SOCKET=listener.address))
    for _ in range(3):
        assert http(address, path="/v1/nothing", token=GOOD_TOKEN)[0] == 404
    served = re.compile(r"serving 0 workspaces, (\d+) requests? served \(auth=token\)")

    def latest_count():
        counts = [int(m.group(1)) for message in listener.snapshot()
                  if "STATUS" in message and (m := served.fullmatch(message["STATUS"]))]
        return counts and counts[-1] >= 3 and counts
    counts = wait_until(latest_count, what="a STATUS line counting 3 requests")
    assert counts == sorted(counts)                    # updates only ever count up
    assert all("\n" not in m.get("STATUS", "") for m in listener.snapshot())
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0


def test_watchdog_pings_keep_coming_at_half_watchdog_usec(harness):
    listener = harness.notify_listener()
    # 600 ms watchdog: a ping every 300 ms; ask for 5 within a generous window
    process, (address,) = harness.activated(harness.env(NOTIFY_SOCKET=listener.address, WATCHDOG_USEC="600000"))
    assert http(address)[0] == 200
    listener.wait_for("READY", "1")
    first = listener.count("WATCHDOG", "1")
    wait_until(lambda: listener.count("WATCHDOG", "1") >= first + 5, timeout=30, what="5 more WATCHDOG=1")
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0


def test_no_watchdog_pings_when_watchdog_pid_names_another_process(harness):
    listener = harness.notify_listener()
    process, (address,) = harness.activated(harness.env(NOTIFY_SOCKET=listener.address, WATCHDOG_USEC="200000",
                                                        WATCHDOG_PID="1"))
    assert http(address)[0] == 200
    listener.wait_for("READY", "1")
    for _ in range(5):                                 # a few requests' time: pings would be due
        assert http(address)[0] == 200
    process.signal(signal.SIGTERM)
    listener.wait_for("STOPPING", "1")
    assert process.wait_exit() == 0
    assert listener.count("WATCHDOG") == 0


def test_sigterm_sends_stopping_then_drains_the_request_in_flight_and_exits_zero(harness):
    listener = harness.notify_listener()
    process, (address,) = harness.activated(harness.env(NOTIFY_SOCKET=listener.address))
    assert http(address)[0] == 200
    listener.wait_for("READY", "1")

    body = b"0123456789"
    with connect(address) as slow:
        slow.sendall(request_bytes("GET", "/v1/health", content_length=len(body)) + body[:3])
        wait_read_by_server(slow)
        process.signal(signal.SIGTERM)
        listener.wait_for("STOPPING", "1")
        assert process.alive()                         # still draining: the request is in flight
        slow.sendall(body[3:])
        status, _, payload = read_response(slow)
    assert status == 200 and b'"status":"ok"' in payload
    assert process.wait_exit() == 0
    assert re.search(r"stopping reason=SIGTERM in_flight=1", process.log())
    assert "drain timed out" not in process.log()


def test_a_second_sigterm_cuts_the_drain_short_and_still_exits_zero(harness):
    listener = harness.notify_listener()
    process, (address,) = harness.activated(harness.env(NOTIFY_SOCKET=listener.address,
                                                        MIRAGE_DRAIN_SECONDS="600"))
    assert http(address)[0] == 200
    listener.wait_for("READY", "1")
    with connect(address) as slow:
        slow.sendall(request_bytes("GET", "/v1/health", content_length=10) + b"01")
        wait_read_by_server(slow)
        process.signal(signal.SIGTERM)
        listener.wait_for("STOPPING", "1")
        process.signal(signal.SIGTERM)
        assert process.wait_exit() == 0               # long before the 600 s drain bound
        try:                                           # the unfinished request was dropped
            assert slow.recv(1024) == b""
        except ConnectionResetError:
            pass
    assert "second stop signal, cutting the drain short" in process.log()
    assert "drain cut short aborted=1" in process.log()


def test_sighup_sends_reloading_then_ready(harness):
    listener = harness.notify_listener()
    process, (address,) = harness.activated(harness.env(NOTIFY_SOCKET=listener.address))
    assert http(address)[0] == 200
    first_ready = listener.wait_for("READY", "1")
    process.signal(signal.SIGHUP)
    reloading = listener.wait_for("RELOADING", "1", after=first_ready + 1)
    assert int(listener.snapshot()[reloading]["MONOTONIC_USEC"]) > 0
    listener.wait_for("READY", "1", after=reloading + 1)
    process.wait_log("reloaded")
    assert http(address)[0] == 200
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0
