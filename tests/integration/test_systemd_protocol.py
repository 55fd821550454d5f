"""mirage.systemd against real sockets and files: LISTEN_*, NOTIFY_SOCKET, WATCHDOG_*, JOURNAL_STREAM."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import pytest

from mirage.systemd import Notifier, take_environment
from mirage.systemd.activation import ActivationError, take_listen_sockets
from mirage.systemd.journal import stderr_is_journal
from mirage.systemd.notify import take_watchdog_interval
from systemd_helpers import MIRAGE


def test_listen_variables_for_another_pid_are_ignored_and_removed():
    environ = {"LISTEN_PID": "1", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "http:http", "OTHER": "x"}
    assert take_listen_sockets(environ, pid=os.getpid()) == []
    assert environ == {"OTHER": "x"}


def test_listen_fds_that_is_not_a_number_is_refused():
    environ = {"LISTEN_PID": str(os.getpid()), "LISTEN_FDS": "two"}
    with pytest.raises(ActivationError, match="LISTEN_FDS='two' is not a number"):
        take_listen_sockets(environ, pid=os.getpid())
    assert environ == {}


_TAKE_FD3 = """
import os, socket, sys
from mirage.systemd.activation import ActivationError, take_listen_sockets
kind = sys.argv[1]
if kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
elif kind == "unlistened":
    s = socket.socket(); s.bind(("127.0.0.1", 0))
else:
    s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[2]); s.listen()
os.dup2(s.fileno(), 3)
env = {"LISTEN_PID": str(os.getpid()), "LISTEN_FDS": "1", "LISTEN_FDNAMES": "web"}
try:
    (sock,) = take_listen_sockets(env, os.getpid())
    print("ok", sock.fd, sock.name, sock.address, env)
except ActivationError as exc:
    print("refused", exc)
"""


@pytest.mark.parametrize("kind, expected", [
    ("udp", "refused fd 3 (web): not a stream socket (ListenStream= is needed)"),
    ("unlistened", "refused fd 3 (web): not a listening socket (Accept=no is needed)"),
])
def test_an_inherited_fd_that_cannot_be_served_is_refused_with_its_number_and_name(kind, expected):
    out = subprocess.run([sys.executable, "-c", _TAKE_FD3, kind], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == expected, out.stderr


def test_an_inherited_unix_listening_socket_is_taken_with_its_path(tmp_path):
    path = str(tmp_path / "s.sock")
    out = subprocess.run([sys.executable, "-c", _TAKE_FD3, "unix", path], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == f"ok 3 web {path} {{}}", out.stderr


def test_daemon_given_a_datagram_socket_exits_1_naming_the_fd(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "MIRAGE_HOME": str(tmp_path / "m"),
           "MIRAGE_AUTH_MODE": "token", "MIRAGE_AUTH_TOKEN": "t" * 24}
    launcher = subprocess.run([sys.executable, "-c", _UDP_AS_FD3, str(MIRAGE)], capture_output=True, text=True,
                              timeout=60, env=env)
    assert launcher.returncode == 1, launcher.stderr
    assert "socket activation failed" in launcher.stderr
    assert "fd 3 (http): not a stream socket" in launcher.stderr


_UDP_AS_FD3 = """
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1", LISTEN_FDNAMES="http")
os.execv(sys.argv[1], [sys.argv[1], "daemon", "run"])
"""


@pytest.mark.parametrize("usec, pid, expected", [
    ("30000000", None, 15.0),
    ("30000000", "self", 15.0),
    ("30000000", "1", None),          # meant for another process
    ("0", None, None),
    ("soon", None, None),
    (None, None, None),
])
def test_watchdog_interval_is_half_of_watchdog_usec_for_this_process(usec, pid, expected):
    environ = {}
    if usec is not None:
        environ["WATCHDOG_USEC"] = usec
    if pid is not None:
        environ["WATCHDOG_PID"] = str(os.getpid()) if pid == "self" else pid
    assert take_watchdog_interval(environ, os.getpid()) == expected
    assert environ == {}


def test_journal_stream_must_name_the_file_stderr_is(tmp_path):
    path = tmp_path / "err"
    with open(path, "w") as stream:
        info = os.fstat(stream.fileno())
        assert stderr_is_journal(f"{info.st_dev}:{info.st_ino}", stream)
        assert not stderr_is_journal(f"{info.st_dev}:{info.st_ino + 1}", stream)
        assert not stderr_is_journal("garbage", stream)
        assert not stderr_is_journal("", stream)
        assert not stderr_is_journal(None, stream)


@pytest.mark.parametrize("abstract", [False, True])
def test_notifier_sends_to_a_path_or_abstract_datagram_socket_and_forgets_the_variable(tmp_path, abstract):
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = f"mirage-test-{uuid.uuid4().hex}"
        receiver.bind("\0" + name)
        address = "@" + name
    else:
        address = str(tmp_path / "n.sock")
        receiver.bind(address)
    receiver.settimeout(10)
    try:
        environ = {"NOTIFY_SOCKET": address}
        notifier = Notifier.from_environment(environ)
        assert environ == {} and notifier.enabled
        notifier.ready("serving 2 workspaces,\nline two")
        assert receiver.recv(4096) == b"READY=1\nSTATUS=serving 2 workspaces, line two"
        notifier.reloading()
        reloading = receiver.recv(4096).decode().split("\n")
        assert reloading[0] == "RELOADING=1" and int(reloading[1].removeprefix("MONOTONIC_USEC=")) > 0
        notifier.stopping("bye")
        assert receiver.recv(4096) == b"STOPPING=1\nSTATUS=bye"
        notifier.watchdog()
        assert receiver.recv(4096) == b"WATCHDOG=1"
    finally:
        receiver.close()
    assert "NOTIFY_SOCKET" not in os.environ or os.environ["NOTIFY_SOCKET"] != address


def test_without_notify_socket_the_notifier_does_nothing():
    notifier = Notifier.from_environment({})
    assert not notifier.enabled
    notifier.ready("x")       # no error, nowhere to send
    notifier.watchdog()


def test_take_environment_removes_systemd_variables_children_must_not_inherit():
    environ = {"LISTEN_PID": "1", "LISTEN_FDS": "1", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1",
               "NOTIFY_SOCKET": "/nonexistent/notify", "JOURNAL_STREAM": "1:2", "HOME": "/x"}
    context = take_environment(environ, pid=os.getpid())
    assert environ == {"JOURNAL_STREAM": "1:2", "HOME": "/x"}
    assert context.sockets == [] and not context.socket_activated and context.watchdog_interval is None
    assert not context.journal

