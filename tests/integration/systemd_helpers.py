"""Real-process helpers for the systemd tests: systemd-socket-activate, a NOTIFY_SOCKET
datagram listener, raw HTTP over TCP or unix sockets, and cleanup that always kills.

No timing is asserted anywhere: helpers wait with generous timeouts for something to
happen and fail with what they saw when it does not.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MIRAGE = REPO / ".venv" / "bin" / "mirage"
if not MIRAGE.exists():   # installed elsewhere (CI venv): the one next to this python
    MIRAGE = Path(sys.executable).parent / "mirage"
ACTIVATOR = shutil.which("systemd-socket-activate") or "/usr/bin/systemd-socket-activate"

WAIT = 20.0          # generous: 2 cores shared by many test suites
GOOD_TOKEN = "tok-good-0123456789abcdef"
OTHER_TOKEN = "tok-rotated-fedcba9876543210"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float = WAIT, what: str = "condition",
               interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------- NOTIFY_SOCKET

class NotifyListener:
    """A real AF_UNIX datagram socket collecting sd_notify messages in a thread."""

    def __init__(self, directory: Path, abstract: bool = False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"mirage-test-{uuid.uuid4().hex}"
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            path = directory / "notify.sock"
            self.sock.bind(str(path))
            self.address = str(path)
        self.sock.settimeout(0.2)
        self.messages: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while self._running:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            with self._lock:
                self.messages.append(fields)

    def snapshot(self) -> list[dict[str, str]]:
        with self._lock:
            return list(self.messages)

    def count(self, key: str, value: str | None = None) -> int:
        return sum(1 for m in self.snapshot() if key in m and (value is None or m[key] == value))

    def wait_for(self, key: str, value: str | None = None, *, after: int = 0, timeout: float = WAIT) -> int:
        """Index of the first message at or after ``after`` holding key(=value)."""
        def find():
            for index, message in enumerate(self.snapshot()):
                if index >= after and key in message and (value is None or message[key] == value):
                    return index + 1
            return 0
        return wait_until(find, timeout, f"{key}={value or '*'} on NOTIFY_SOCKET (got {self.snapshot()})") - 1

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=2)
        self.sock.close()


# ---------------------------------------------------------------- the daemon

def write_config(path: Path, token: str = GOOD_TOKEN, extra: str = "") -> Path:
    path.write_text(f"auth:\n  mode: token\n  token: {token}\n{extra}")
    return path


def daemon_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The daemon's environment: temp HOME/MIRAGE_HOME and a temp config file."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    config = tmp_path / "mirage.yaml"
    if not config.exists():
        write_config(config)
    env = {
        "HOME": str(home),
        "MIRAGE_HOME": str(home / ".mirage"),
        "MIRAGE_CONFIG": str(config),
        "MIRAGE_PORT": str(free_port()),     # never used when socket-activated
    }
    env.update(extra)
    return env


class Process:
    """A started process whose stdout+stderr go to a file; always killed on close."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path, **popen):
        self.log_path = log_path
        self.log_file = open(log_path, "wb")
        self.popen = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                      stderr=subprocess.STDOUT, start_new_session=True, **popen)
        self.pid = self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[str]:
        return self.log().splitlines()

    def wait_log(self, pattern: str, timeout: float = WAIT) -> re.Match:
        regex = re.compile(pattern)
        return wait_until(lambda: regex.search(self.log()), timeout, f"log line /{pattern}/ (log: {self.log()!r})")

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def wait_exit(self, timeout: float = WAIT) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"process {self.pid} did not exit (log: {self.log()!r})") from None

    def alive(self) -> bool:
        return self.popen.poll() is None

    def close(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(10)
        self.log_file.close()


def activator_argv(listen: list[str], env: dict[str, str], fdnames: list[str] | None = None,
                   daemon: list[str] | None = None) -> list[str]:
    argv = [ACTIVATOR]
    for address in listen:
        argv += ["-l", address]
    argv.append("--fdname=" + ":".join(fdnames or ["http"] * len(listen)))
    for name, value in env.items():
        argv += ["-E", f"{name}={value}"]
    return argv + (daemon or [str(MIRAGE), "daemon", "run"])


def start_activated(tmp_path: Path, env: dict[str, str], listen: list[str] | None = None,
                    fdnames: list[str] | None = None, daemon: list[str] | None = None,
                    log_name: str = "daemon.log") -> tuple[Process, list[str]]:
    """systemd-socket-activate listening on ``listen`` (default one free 127.0.0.1 port).
    Returns the process (the activator, which execs the daemon in place on the first
    connection) and the addresses it listens on, once it listens. With the default
    address, a port taken by someone else in the meantime is retried with a new one."""
    attempts = 1 if listen else 3
    for attempt in range(attempts):
        addresses = listen or [f"127.0.0.1:{free_port()}"]
        process = Process(activator_argv(addresses, env, fdnames, daemon), {"PATH": os.environ["PATH"]},
                          tmp_path / log_name)
        try:
            for address in addresses:
                wait_until(lambda: re.search(re.escape(f"Listening on {address}"), process.log())
                           or not process.alive(), what=f"the activator to listen on {address}")
            if process.alive() or all(f"Listening on {a}" in process.log() for a in addresses):
                return process, addresses
        except AssertionError:
            process.close()
            raise
        failure = process.log()
        process.close()
        if attempt == attempts - 1:
            raise AssertionError(f"systemd-socket-activate failed to listen: {failure!r}")
    raise AssertionError("unreachable")


def start_bound(tmp_path: Path, env: dict[str, str], log_name: str = "daemon.log",
                args: list[str] | None = None) -> Process:
    """The daemon binding server.host:server.port itself (not socket-activated)."""
    full_env = {"PATH": os.environ["PATH"], **env}
    return Process([str(MIRAGE), "daemon", "run", *(args or [])], full_env, tmp_path / log_name)


# ---------------------------------------------------------------- raw HTTP

def connect(address: str, timeout: float = WAIT) -> socket.socket:
    """``127.0.0.1:PORT`` or a unix socket path."""
    if address.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address)
        return sock
    host, port = address.rsplit(":", 1)
    return socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)


def request_bytes(method: str, path: str, token: str | None = None, body: bytes = b"",
                  content_length: int | None = None, keep_alive: bool = False) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    length = len(body) if content_length is None else content_length
    if length or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {length}")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response (Content-Length framed, as Sanic sends JSON)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a response (got {data!r})")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(status_line.split()[1]), headers, rest[:length]


def http(address: str, method: str = "GET", path: str = "/v1/health", token: str | None = None,
         body: bytes = b"") -> tuple[int, bytes]:
    with connect(address) as sock:
        sock.sendall(request_bytes(method, path, token, body))
        status, _, payload = read_response(sock)
        return status, payload


def call(address: str, method: str, path: str, token: str, payload: dict | None = None) -> tuple[int, dict]:
    """A JSON API call; returns (status, decoded body)."""
    import json
    body = json.dumps(payload).encode() if payload is not None else b""
    status, raw = http(address, method, path, token, body)
    return status, json.loads(raw) if raw else {}


def exercise_workspace(address: str, token: str, workspace_id: str = "hardened") -> None:
    """Create a workspace and run shell lines through it (parser, pipes, sed, jq, state writes)."""
    status, _ = call(address, "POST", "/v1/workspaces", token, {"config": {}, "id": workspace_id})
    assert status in (200, 201)
    lines = {
        "echo hello > /greeting": "",
        "cat /greeting | sed s/h/H/": "Hello\n",
        "echo '{\"a\": [1, 2]}' | jq -c .a": "[1,2]\n",
    }
    for line, expected in lines.items():
        status, result = call(address, "POST", f"/v1/workspaces/{workspace_id}/shell", token, {"command": line})
        assert status == 200 and result["exit_code"] == 0 and result["stdout"] == expected, (line, result)


# argv: FD PROGRAM ARGS... — put FD at 3 and exec PROGRAM as a socket-activated service
HAND_OVER_FD3 = """
import os, sys
fd = int(sys.argv[1])
os.dup2(fd, 3)
os.set_inheritable(3, True)
if fd != 3:
    os.close(fd)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1", LISTEN_FDNAMES="http")
os.execv(sys.argv[2], sys.argv[2:])
"""


def start_on_socket(listener: socket.socket, env: dict[str, str], log_path: Path) -> Process:
    """Play systemd's part: hand our listening socket to a new daemon as fd 3."""
    return Process([sys.executable, "-c", HAND_OVER_FD3, str(listener.fileno()), str(MIRAGE), "daemon", "run"],
                   {"PATH": os.environ["PATH"], **env}, log_path, pass_fds=[listener.fileno()])


def port_refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def listening_inodes(pid: int) -> dict[int, int]:
    """{fd: socket inode} for the process's fds that are listening TCP/unix sockets."""
    listening = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "0A":              # TCP_LISTEN
                listening.add(int(parts[9]))
    for line in Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]:
        parts = line.split()
        if int(parts[3], 16) & 0x10000 and parts[4] == "0001":   # __SO_ACCEPTCON, SOCK_STREAM
            listening.add(int(parts[6]))
    found = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        match = re.fullmatch(r"socket:\[(\d+)\]", target)
        if match and int(match.group(1)) in listening:
            found[int(fd)] = int(match.group(1))
    return found


# ---------------------------------------------------------------- the fixture

class Harness:
    """Starts processes and notify listeners for one test; closes all of them after."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self._processes: list[Process] = []
        self._listeners: list[NotifyListener] = []

    def notify_listener(self, abstract: bool = False) -> NotifyListener:
        listener = NotifyListener(self.tmp_path, abstract=abstract)
        self._listeners.append(listener)
        return listener

    def env(self, **extra: str) -> dict[str, str]:
        return daemon_env(self.tmp_path, **extra)

    def activated(self, env: dict[str, str], **kwargs) -> tuple[Process, list[str]]:
        process, listen = start_activated(self.tmp_path, env, **kwargs)
        self._processes.append(process)
        return process, listen

    def bound(self, env: dict[str, str], **kwargs) -> Process:
        process = start_bound(self.tmp_path, env, **kwargs)
        self._processes.append(process)
        return process

    def track(self, process: Process) -> Process:
        self._processes.append(process)
        return process

    def close(self) -> None:
        for process in self._processes:
            process.close()
        for listener in self._listeners:
            listener.close()


@pytest.fixture
def harness(tmp_path):
    if not os.path.exists(ACTIVATOR):
        pytest.skip("systemd-socket-activate is not installed (apt-get install systemd)")
    h = Harness(tmp_path)
    try:
        yield h
    finally:
        h.close()


def wait_read_by_server(client: socket.socket, timeout: float = WAIT) -> None:
    """Wait until the server side of ``client``'s TCP connection has read everything sent
    (its receive queue in /proc/net/tcp is empty): the daemon has the request in hand."""
    server_port = client.getpeername()[1]
    client_port = client.getsockname()[1]

    def drained() -> bool:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                local_port = int(parts[1].rsplit(":", 1)[1], 16)
                remote_port = int(parts[2].rsplit(":", 1)[1], 16)
                if local_port == server_port and remote_port == client_port:
                    return int(parts[4].split(":")[1], 16) == 0
        return False
    wait_until(drained, timeout, "the daemon to read the request")
