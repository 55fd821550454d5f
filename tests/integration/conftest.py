"""Shared fixtures for integration tests (real subprocesses, real loopback sockets).

``daemon_factory`` — start ``mirage daemon run`` as a real subprocess and use it over HTTP.

    def test_something(daemon_factory):
        daemon = daemon_factory({"MIRAGE_AUTH_MODE": "token", "MIRAGE_AUTH_TOKEN": "s3cret"})
        status, headers, body = daemon.request("GET", "/v1/workspaces", token="s3cret")
        data = daemon.json("GET", "/v1/health")                  # status must be 2xx
        reply = daemon.raw(b"GET /v1/health HTTP/1.0\\r\\n\\r\\n")  # exact bytes on the wire

        result = daemon_factory.run_to_exit({"MIRAGE_AUTH_MODE": "token"})   # start refusals
        assert result.returncode == 2 and "MIRAGE_AUTH_TOKEN" in result.stderr

What it guarantees:

* Environment: built from scratch — PATH, LANG, and a private world under the test's
  ``tmp_path``: ``HOME=<tmp>/home``, ``MIRAGE_HOME=<tmp>/home/.mirage``,
  ``MIRAGE_CONFIG=<tmp>/mirage.yaml`` (an empty file, so ``/etc/mirage`` is never read).
  Nothing else is inherited (no MIRAGE_*, NOTIFY_SOCKET, LISTEN_FDS, JOURNAL_STREAM from
  the test runner). The ``env`` you pass is laid over that; a value of ``None`` removes a
  name. ``daemon_factory.base_env()`` returns the base for inspection.
* Port: a free 127.0.0.1 port (bind port 0) passed as ``--port`` unless you pass
  ``--port`` in ``args`` or ``MIRAGE_PORT`` in ``env``. Retried with a new port (up to 3
  times) if another process grabbed it first.
* Readiness: ``daemon_factory(...)`` returns only once ``GET /v1/health`` answers 200
  (``wait=False`` skips this). If the process exits or 30 s pass, it raises
  ``DaemonFailed`` with the daemon's output.
* Cleanup: every process started is killed at teardown (SIGTERM to its own process
  group, SIGKILL after 10 s) — also when the test fails. ``daemon.stop()`` does the same
  early and returns the exit code.
* Output: stdout/stderr go to files (``daemon.stdout_path``/``stderr_path``);
  ``daemon.output()`` reads both.

``daemon_factory.run_to_exit(env, args=("daemon", "run"), timeout=60, wrapper=())`` runs the
command to completion with the same environment rules (no ``--port`` added; ``wrapper`` is
put in front, e.g. a ``setpriv`` line) and returns a
``subprocess.CompletedProcess`` with text stdout/stderr: for "refuses to start" tests.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_VENV_MIRAGE = REPO / ".venv" / "bin" / "mirage"
# never route loopback test traffic through an http_proxy from the runner's environment
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def mirage_command() -> list[str]:
    """The installed ``mirage`` console script, or ``python -m mirage`` as a fallback."""
    if _VENV_MIRAGE.exists():
        return [str(_VENV_MIRAGE)]
    return [sys.executable, "-m", "mirage"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DaemonFailed(RuntimeError):
    """The daemon exited or never became healthy; the message carries its output."""


@dataclass
class DaemonProcess:
    proc: subprocess.Popen
    port: int
    env: dict[str, str]
    stdout_path: Path
    stderr_path: Path
    home: Path
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"http://127.0.0.1:{self.port}"

    # -- HTTP

    def request(self, method: str, path: str, *, token: str | None = None, headers: Mapping[str, str] | None = None,
                body: bytes | dict | list | None = None, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request with urllib. Never raises for an HTTP error status.
        Returns (status, headers with lower-case names, body bytes)."""
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=all_headers)
        try:
            with _OPENER.open(req, timeout=timeout) as response:
                return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()

    def json(self, method: str, path: str, **kwargs):
        """Like request(), but the status must be 2xx; returns the decoded JSON body."""
        status, _, body = self.request(method, path, **kwargs)
        if not 200 <= status < 300:
            raise AssertionError(f"{method} {path} -> {status}: {body[:500]!r}")
        return json.loads(body) if body else None

    def raw(self, data: bytes, timeout: float = 30.0) -> bytes:
        """Send exact bytes on a fresh connection and read until the daemon closes it
        (send ``Connection: close`` or HTTP/1.0). For wire-level cases urllib cannot make."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            chunks = []
            while True:
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks)

    # -- process

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        parts = []
        for path in (self.stdout_path, self.stderr_path):
            try:
                parts.append(path.read_text(errors="replace"))
            except FileNotFoundError:
                pass
        return "".join(parts)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM the daemon's process group, SIGKILL after ``timeout``; returns the exit code."""
        return _terminate(self.proc, timeout)


def _terminate(proc: subprocess.Popen, timeout: float) -> int:
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=timeout)
    return proc.returncode


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)          # the group we created with start_new_session
    except ProcessLookupError:
        pass
    except PermissionError:
        proc.send_signal(sig)


class DaemonFactory:
    def __init__(self, tmp_path: Path):
        self._tmp = tmp_path
        self._started: list[subprocess.Popen] = []
        self._numbers = itertools.count()
        self.home = tmp_path / "home"
        self.config = tmp_path / "mirage.yaml"

    def base_env(self) -> dict[str, str]:
        self.home.mkdir(exist_ok=True)
        if not self.config.exists():
            self.config.write_text("")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "HOME": str(self.home),
            "MIRAGE_HOME": str(self.home / ".mirage"),
            "MIRAGE_CONFIG": str(self.config),
        }
        if os.environ.get("TMPDIR"):
            env["TMPDIR"] = os.environ["TMPDIR"]
        return env

    def _env(self, env: Mapping[str, str | None] | None) -> dict[str, str]:
        result = self.base_env()
        for name, value in (env or {}).items():
            if value is None:
                result.pop(name, None)
            else:
                result[name] = value
        return result

    def __call__(self, env: Mapping[str, str | None] | None = None, args: Sequence[str] = (), *,
                 wait: bool = True, timeout: float = START_TIMEOUT) -> DaemonProcess:
        full_env = self._env(env)
        choose_port = "--port" not in args and "MIRAGE_PORT" not in full_env
        for attempt in range(3):
            port = free_port() if choose_port else int(
                args[list(args).index("--port") + 1] if "--port" in args else full_env["MIRAGE_PORT"])
            argv = [*mirage_command(), "daemon", "run", *(["--port", str(port)] if choose_port else []), *args]
            daemon = self._spawn(argv, full_env, port)
            if not wait:
                return daemon
            try:
                self._wait_healthy(daemon, timeout)
                return daemon
            except DaemonFailed:
                if choose_port and attempt < 2 and "address already in use" in daemon.output().lower():
                    continue
                raise
        raise AssertionError("unreachable")

    def _spawn(self, argv: list[str], env: dict[str, str], port: int) -> DaemonProcess:
        number = next(self._numbers)
        stdout_path = self._tmp / f"daemon-{number}.out"
        stderr_path = self._tmp / f"daemon-{number}.err"
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    cwd=self._tmp, start_new_session=True)
        self._started.append(proc)
        return DaemonProcess(proc, port, env, stdout_path, stderr_path, Path(env["HOME"]))

    def _wait_healthy(self, daemon: DaemonProcess, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not daemon.alive():
                raise DaemonFailed(f"daemon exited with {daemon.proc.returncode}:\n{daemon.output()}")
            try:
                status, _, _ = daemon.request("GET", "/v1/health", timeout=2)
                if status == 200:
                    return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        daemon.stop()
        raise DaemonFailed(f"daemon not healthy after {timeout} s:\n{daemon.output()}")

    def run_to_exit(self, env: Mapping[str, str | None] | None = None, args: Sequence[str] = ("daemon", "run"),
                    timeout: float = 60.0, wrapper: Sequence[str] = ()) -> subprocess.CompletedProcess:
        """Run ``mirage <args>`` to completion (no --port added); killed if it outlives ``timeout``.
        ``wrapper`` is put in front of the command (e.g. ``setpriv ...``)."""
        proc = subprocess.Popen([*wrapper, *mirage_command(), *args], env=self._env(env), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self._tmp,
                                start_new_session=True)
        self._started.append(proc)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _terminate(proc, STOP_TIMEOUT)
            stdout, stderr = proc.communicate()
            raise DaemonFailed(f"`mirage {' '.join(args)}` still running after {timeout} s:\n{stdout}{stderr}")
        return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)

    def cleanup(self) -> None:
        for proc in self._started:
            try:
                _terminate(proc, STOP_TIMEOUT)
            except Exception:  # keep killing the others
                pass


@pytest.fixture
def daemon_factory(tmp_path):
    """Start real ``mirage daemon run`` subprocesses; see this module's docstring."""
    factory = DaemonFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.cleanup()
