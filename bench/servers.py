"""Start the servers under test as real subprocesses on loopback, and stop them.

Three kinds: the framework baseline (bench/baseline_app.py), our daemon
(``.venv/bin/mirage daemon run``), and the reference daemon (``mirage-ai`` under
uvicorn, from its own venv in bench/.scratch/). Each gets a fresh HOME, a free port,
its output in a log file, and — when pinning is on — the server core via taskset.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from client import Client, wait_for_health

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SCRATCH = BENCH_DIR / ".scratch"
OUR_VENV = REPO / ".venv"
OUR_PYTHON = OUR_VENV / "bin" / "python"
OUR_MIRAGE = OUR_VENV / "bin" / "mirage"
REF_VENV = SCRATCH / "ref-venv"
REF_PYTHON = REF_VENV / "bin" / "python"

RAM_CONFIG = {"mounts": {"/": {"vfs": "ram"}}}
BENCH_TOKEN = "bench-token-0123456789abcdefghijklmnopqrstuv"


class StartError(RuntimeError):
    """The server did not come up; the message says why (exit code, last log lines)."""


@dataclass(frozen=True)
class Dialect:
    """Request shapes that differ between our daemon and the reference."""

    name: str
    session_in_query: bool = False
    workspace_config: dict = field(default_factory=lambda: RAM_CONFIG)

    def shell(self, workspace: str, command: str, session: str | None = None) -> tuple[str, dict]:
        path = f"/v1/workspaces/{workspace}/shell"
        body: dict = {"command": command}
        if session is not None:
            if self.session_in_query:
                path += f"?session_id={session}"
            else:
                body["session_id"] = session
        return path, body


OURS = Dialect("mirage")
# mirage-ai's cat stops at 2,000 lines unless the workspace's command_limits lift it
REFERENCE = Dialect("mirage-ai", session_in_query=True, workspace_config={
    **RAM_CONFIG, "command_limits": {"cat": {"max_lines": 10_000_000, "max_bytes": 64 << 20}}})
BASELINE = Dialect("baseline")


@dataclass
class Server:
    label: str
    proc: subprocess.Popen
    port: int
    auth: str | None
    dialect: Dialect
    log_path: Path
    home: Path | None = None
    started_at: float = 0.0
    up_at: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def startup_s(self) -> float:
        return self.up_at - self.started_at

    def client(self, timeout: float = 120.0) -> Client:
        return Client(self.port, self.auth, timeout=timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_kib(self) -> int | None:
        return rss_kib(self.proc.pid)

    def stop(self, timeout: float = 15.0) -> int | None:
        return stop_process(self.proc, timeout)

    def log_tail(self, lines: int = 6) -> str:
        return log_tail(self.log_path, lines)


def stop_process(proc: subprocess.Popen, timeout: float = 15.0) -> int | None:
    """SIGTERM, wait, then SIGKILL. Returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


def rss_kib(pid: int) -> int | None:
    """VmRSS of a process in KiB, from /proc/PID/status."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def log_tail(path: Path, lines: int = 6) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(home: Path) -> dict[str, str]:
    """A clean environment: nothing MIRAGE_* from the caller, HOME in a temp dir."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("MIRAGE_", "LISTEN_", "NOTIFY_SOCKET", "WATCHDOG_", "JOURNAL_STREAM",
                                   "BENCH_", "PYTHON"))}
    env["HOME"] = str(home)
    return env


def our_settings_env_names() -> frozenset[str]:
    """The MIRAGE_* names our settings know (so we never pass one it would refuse)."""
    try:
        from mirage.settings import KEYS_BY_ENV
    except ImportError:                                # pragma: no cover - run outside the venv
        return frozenset()
    return frozenset(KEYS_BY_ENV)


def our_env(home: Path, *, mode: str = "token", token: str = BENCH_TOKEN, jwt_alg: str | None = None,
            jwt_pubkey_file: Path | None = None, fsync: str | None = None,
            state_dir: Path | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    known = our_settings_env_names()
    env = base_env(home)
    mirage_home = home / ".mirage"
    mirage_home.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = home / "empty-config.yaml"
    config.write_text("# bench: every setting comes from the environment\n")
    wanted = {
        "MIRAGE_HOME": str(mirage_home),
        "MIRAGE_CONFIG": str(config),
        "MIRAGE_AUTH_MODE": mode,
        "MIRAGE_LOG_ACCESS": "false",
        "MIRAGE_DRAIN_SECONDS": "3",
    }
    if mode in ("token", "local"):
        wanted["MIRAGE_AUTH_TOKEN"] = token
    if mode == "jwt":
        wanted["MIRAGE_JWT_ALG"] = jwt_alg or ""
        wanted["MIRAGE_JWT_PUBKEY_FILE"] = str(jwt_pubkey_file or "")
    if fsync:
        wanted["MIRAGE_STATE_FSYNC"] = fsync
    if state_dir:
        wanted["MIRAGE_STATE_DIR"] = str(state_dir)
    wanted.update(extra or {})
    for name, value in wanted.items():
        # MIRAGE_CONFIG is a client-side name, not a settings key; the rest must be known keys
        if name == "MIRAGE_CONFIG" or not known or name in known:
            env[name] = value
    return env


def _pinned(cmd: list[str], cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu), *cmd] if cpu is not None else cmd


def spawn(label: str, cmd: list[str], env: dict[str, str], *, port: int, auth: str | None,
          dialect: Dialect, log_dir: Path, home: Path | None = None, cpu: int | None = None,
          timeout: float = 45.0, extra_fds: tuple[int, ...] = ()) -> Server:
    """Start ``cmd`` and wait for GET /v1/health → 200. Raises StartError."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{label}-{port}.log"
    log = open(log_path, "wb")
    started = time.monotonic()
    proc = subprocess.Popen(_pinned(cmd, cpu), env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=str(home or log_dir), pass_fds=extra_fds)
    log.close()
    server = Server(label, proc, port, auth, dialect, log_path, home=home, started_at=started)
    try:
        up = wait_for_health(port, deadline=started + timeout, alive=server.alive)
    except BaseException:
        server.stop(timeout=5)
        raise
    if up is None:
        code = server.stop(timeout=5)
        why = f"exit code {code}" if code not in (None, -15) else f"no 200 from /v1/health in {timeout:.0f}s"
        raise StartError(f"{label} did not start ({why}): {server.log_tail(3) or '(no output)'}")
    server.up_at = up
    return server


def start_baseline(log_dir: Path, home: Path, cpu: int | None) -> Server:
    port = free_port()
    env = base_env(home)
    cmd = [str(OUR_PYTHON), str(BENCH_DIR / "baseline_app.py"), "--port", str(port)]
    return spawn("baseline", cmd, env, port=port, auth=f"Bearer {BENCH_TOKEN}", dialect=BASELINE,
                 log_dir=log_dir, home=home, cpu=cpu)


def start_ours(log_dir: Path, home: Path, cpu: int | None, *, label: str = "mirage",
               auth: str | None = None, **env_options) -> Server:
    port = free_port()
    env = our_env(home, **env_options)
    cmd = [str(OUR_MIRAGE), "daemon", "run", "--port", str(port)]
    mode = env_options.get("mode", "token")
    if auth is None and mode != "jwt":
        auth = f"Bearer {env_options.get('token', BENCH_TOKEN)}"
    return spawn(label, cmd, env, port=port, auth=auth, dialect=OURS, log_dir=log_dir, home=home, cpu=cpu)


def reference_installed() -> bool:
    # -I and cwd: never pick up our own `mirage` package from the repo checkout
    return REF_PYTHON.exists() and subprocess.run(
        [str(REF_PYTHON), "-I", "-c", "import mirage.server.daemon, uvicorn"],
        capture_output=True, cwd=str(SCRATCH)).returncode == 0


def install_reference(log: Path) -> None:
    """pip install mirage-ai (and uvicorn with uvloop/httptools) into bench/.scratch/ref-venv."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    if not REF_PYTHON.exists():
        subprocess.run(["python3", "-m", "venv", str(REF_VENV)], check=True)
    with open(log, "ab") as out:
        proc = subprocess.run([str(REF_PYTHON), "-m", "pip", "install", "-q", "mirage-ai", "uvicorn[standard]"],
                              stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise StartError(f"pip install mirage-ai failed (exit {proc.returncode}); see {log}")


def reference_version() -> str:
    proc = subprocess.run([str(REF_PYTHON), "-m", "pip", "show", "mirage-ai"], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "?"


def start_reference(log_dir: Path, home: Path, cpu: int | None, *, mode: str = "token",
                    jwt_alg: str | None = None, jwt_pubkey_file: Path | None = None,
                    auth: str | None = None, label: str = "mirage-ai") -> Server:
    """The reference daemon under uvicorn (uvloop + httptools, access log off), in its own
    auth mode: MIRAGE_AUTH_MODE / MIRAGE_AUTH_TOKEN / MIRAGE_JWT_* as its docs describe."""
    port = free_port()
    env = base_env(home)
    env["MIRAGE_AUTH_MODE"] = mode
    if mode == "token":
        env["MIRAGE_AUTH_TOKEN"] = BENCH_TOKEN
        auth = auth or f"Bearer {BENCH_TOKEN}"
    if mode == "jwt":
        env["MIRAGE_JWT_ALG"] = jwt_alg or ""
        env["MIRAGE_JWT_PUBKEY_FILE"] = str(jwt_pubkey_file or "")
    cmd = [str(REF_PYTHON), "-m", "uvicorn", "mirage.server.daemon:app", "--host", "127.0.0.1",
           "--port", str(port), "--no-access-log", "--log-level", "warning",
           "--loop", "uvloop", "--http", "httptools"]
    server = spawn(label, cmd, env, port=port, auth=auth, dialect=REFERENCE, log_dir=log_dir, home=home, cpu=cpu)
    # mirage-ai exits on its own ~30 s after its last workspace is gone (its CLI spawns it on
    # demand); one idle workspace keeps it up for the whole bench
    client = server.client(timeout=30)
    try:
        reply = client.post("/v1/workspaces", {"id": "bench-keepalive", "config": RAM_CONFIG})
    finally:
        client.close()
    if reply.status not in (200, 201):
        server.stop()
        raise StartError(f"{label}: creating its keep-alive workspace answered {reply.status}: {reply.detail()}")
    return server
