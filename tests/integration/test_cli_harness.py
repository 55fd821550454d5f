"""Shared parts of the CLI integration tests (imported by the test_cli_* modules; holds no tests).

Everything is real: the installed ``mirage`` executable run as a subprocess, a real daemon
subprocess on a free loopback port, a fresh HOME per test. Daemons the CLI spawns are
detached (their own session), so every fixture stops them in teardown, found through the
pid file's lock exactly as ``mirage daemon stop`` finds them.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent
MIRAGE = str(VENV_BIN / "mirage")
WORKSPACE_YAML = "mode: WRITE\nmounts:\n  /:\n    vfs: ram\n    mode: WRITE\n"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_environment(home: Path) -> dict[str, str]:
    """The machine's environment without any MIRAGE_* name, with HOME pointing at ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIRAGE_")}
    env["HOME"] = str(home)
    env.pop("PYTHONPATH", None)
    return env


def health(url: str, timeout: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(url + "/v1/health", timeout=timeout) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def wait_for_health(url: str, proc: subprocess.Popen | None = None, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = health(url, timeout=1.0)
        if body is not None:
            return body
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"daemon exited with {proc.returncode}")
        time.sleep(0.05)
    raise AssertionError(f"no health at {url} within {timeout} s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def daemon_pids_on_port(port: int) -> list[int]:
    """Processes running `mirage daemon run ... --port PORT` (spawned or not)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"daemon" in argv and b"run" in argv and b"--port" in argv:
            index = argv.index(b"--port")
            if index + 1 < len(argv) and argv[index + 1] == str(port).encode() and pid_alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def stop_spawned_daemon(home: Path) -> None:
    """Teardown: end a daemon the CLI spawned for ``home`` (it holds the pid file's lock)."""
    pid_file = home / ".mirage" / "daemon.pid"
    if not pid_file.exists():
        return
    fd = os.open(pid_file, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return                                  # nobody holds it: nothing alive
        except BlockingIOError:
            pass
        fields = dict(p.split("=", 1) for p in os.pread(fd, 256, 0).decode().split() if "=" in p)
    finally:
        os.close(fd)
    pid = int(fields.get("pid", "0"))
    if pid <= 0:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.05)
        if not pid_alive(pid):
            return


@dataclass
class Cli:
    """Runs the real ``mirage`` executable with a controlled environment."""

    home: Path
    url: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def mirage_home(self) -> Path:
        return self.home / ".mirage"

    def run(self, *args: str, input: str | bytes | None = None, extra_env: dict[str, str] | None = None,
            timeout: float = 60.0, cwd: Path | None = None) -> subprocess.CompletedProcess:
        env = dict(self.env)
        env.update(extra_env or {})
        binary = isinstance(input, bytes)
        return subprocess.run(
            [MIRAGE, *args], env=env, cwd=cwd or self.home, timeout=timeout,
            input=input, stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True, text=not binary,
        )

    def json(self, *args: str, **kwargs) -> object:
        result = self.run(*args, **kwargs)
        assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
        return json.loads(result.stdout)


@pytest.fixture
def cli(tmp_path):
    """A CLI with a fresh HOME and MIRAGE_DAEMON_URL on a free port; spawned daemons are
    stopped afterwards."""
    home = tmp_path / "home"
    home.mkdir()
    url = f"http://127.0.0.1:{free_port()}"
    env = base_environment(home)
    env["MIRAGE_DAEMON_URL"] = url
    client = Cli(home, url, env)
    yield client
    stop_spawned_daemon(home)


@dataclass
class Daemon:
    proc: subprocess.Popen
    url: str
    home: Path
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_daemon(home: Path, port: int, daemon_env: dict[str, str], log: Path) -> Daemon:
    """`mirage daemon run` as a foreground subprocess (not spawned by the CLI)."""
    env = base_environment(home)
    env.update(daemon_env)
    with open(log, "ab") as out:
        proc = subprocess.Popen([MIRAGE, "daemon", "run", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=home)
    url = f"http://127.0.0.1:{port}"
    daemon = Daemon(proc, url, home, log)
    try:
        wait_for_health(url, proc)
    except AssertionError:
        daemon.stop()
        raise AssertionError(f"daemon did not start: {log.read_text(errors='replace')[-2000:]}") from None
    return daemon


TOKEN = "test-token-0123456789abcdefABCDEF"


@pytest.fixture
def token_daemon(cli, tmp_path):
    """A daemon in token mode on the CLI's port (started by the test, not by the CLI)."""
    daemon = start_daemon(cli.home, cli.port, {"MIRAGE_AUTH_MODE": "token", "MIRAGE_AUTH_TOKEN": TOKEN,
                                               "MIRAGE_HOME": str(cli.mirage_home)},
                          tmp_path / "token-daemon.log")
    yield daemon
    daemon.stop()


def route_missing(result: subprocess.CompletedProcess) -> bool:
    return result.returncode == 2 and "does not offer" in (result.stderr or "")


def assert_route_exists(result: subprocess.CompletedProcess, what: str) -> None:
    """Every route the CLI calls exists: a 'does not offer' answer is a failure, not a skip."""
    assert not route_missing(result), f"daemon route for {what} is missing: {result.stderr.strip()}"
