"""Local mode: start a daemon for this user when none answers, and stop the one we started.

The pid file (``MIRAGE_HOME/daemon.pid``) carries an ``flock``. The CLI takes the lock,
spawns ``mirage daemon run`` with the locked descriptor inherited, and lets go of its own
copy: from then on the lock is held by the daemon process for as long as it lives. So

* the lock is free  ⇔  no spawned daemon is alive and nobody is spawning one;
* two CLIs racing both try the lock; only one spawns, the other waits for health;
* a crashed daemon leaves no stale state: its lock vanishes with it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mirage.cli import http
from mirage.cli.endpoint import Endpoint
from mirage.cli.environment import ClientEnvironment
from mirage.cli.errors import EXIT_REQUEST, EXIT_UNREACHABLE, CliError
from mirage.cli.progress import Progress

STARTUP_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 40.0           # above the daemon's default drain (20 s)
LOG_TAIL_LINES = 20

# Settings the CLI decides for a daemon it spawns; everything else (log level, state dir,
# a config file) flows from the user's own environment and config.
_DROPPED_FOR_CHILD = ("MIRAGE_AUTH_TOKEN", "MIRAGE_HOST", "MIRAGE_PORT", "MIRAGE_DAEMON_URL",
                      "MIRAGE_TOKEN")


@dataclass(frozen=True)
class SpawnedDaemon:
    pid: int
    port: int | None


# ---------------------------------------------------------------- health

def probe_health(endpoint: Endpoint, timeout_s: float = 2.0) -> dict | None:
    """The health body if a mirage daemon answers; None if nothing listens.
    Raises Unreachable for other connection problems and CliError if something that is
    not a mirage daemon answers."""
    try:
        reply = http.request(endpoint, "GET", "/v1/health", read_timeout=timeout_s)
    except http.Unreachable as exc:
        if exc.nothing_listening:
            return None
        raise
    body = reply.body
    if reply.status == 200 and isinstance(body, dict) and body.get("status") == "ok":
        return body
    raise CliError(f"something answers at {endpoint.url} but it is not a healthy mirage daemon "
                   f"(GET /v1/health gave HTTP {reply.status}); not starting another", EXIT_UNREACHABLE)


# ---------------------------------------------------------------- pid file

def _ensure_home(home: Path) -> None:
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create {home}: {exc.strerror or exc}", EXIT_REQUEST) from None
    if home.is_symlink() or not home.is_dir():
        raise CliError(f"{home} is not a folder", EXIT_REQUEST)


def _open_pid_file(path: Path, create: bool) -> int | None:
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    try:
        return os.open(path, flags, 0o600)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CliError(f"{path} is a symlink; refusing to use it", EXIT_REQUEST) from None
        raise CliError(f"cannot open {path}: {exc.strerror or exc}", EXIT_REQUEST) from None


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _read_record(fd: int) -> SpawnedDaemon | None:
    try:
        text = os.pread(fd, 256, 0).decode("ascii", "replace")
    except OSError:
        return None
    fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
    try:
        pid = int(fields["pid"])
    except (KeyError, ValueError):
        return None
    try:
        port = int(fields["port"])
    except (KeyError, ValueError):
        port = None
    return SpawnedDaemon(pid, port)


def _write_record(fd: int, pid: int, port: int) -> None:
    data = f"pid={pid} port={port}\n".encode("ascii")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def running_spawned_daemon(env: ClientEnvironment) -> SpawnedDaemon | None:
    """The daemon a CLI spawned for this MIRAGE_HOME, if it is alive (its lock is held)."""
    fd = _open_pid_file(env.pid_file, create=False)
    if fd is None:
        return None
    try:
        if _try_lock(fd):
            return None      # free: nobody alive holds it (closing the fd releases it)
        return _read_record(fd) or SpawnedDaemon(0, None)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- spawning

def _child_environment(env: ClientEnvironment) -> dict[str, str]:
    child = {k: v for k, v in env.variables.items() if k not in _DROPPED_FOR_CHILD}
    child["MIRAGE_HOME"] = str(env.home)
    child["MIRAGE_AUTH_MODE"] = "local"
    child["MIRAGE_AUTH_TOKEN_FILE"] = str(env.token_file)
    return child


def _log_tail(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            data = log.read()[-16384:]
    except OSError:
        return "(no log)"
    lines = data.decode("utf-8", "replace").rstrip("\n").splitlines()[-LOG_TAIL_LINES:]
    return "\n".join("    " + line for line in lines) if lines else "    (the log is empty)"


def _wait_healthy(endpoint: Endpoint, progress: Progress, deadline: float,
                  child: subprocess.Popen | None = None) -> dict | None:
    """Poll health until it answers (its body), the child exits, or the deadline (None)."""
    delay = 0.05
    while True:
        try:
            body = probe_health(endpoint, timeout_s=1.0)
        except http.Unreachable:
            body = None
        if body is not None:
            return body
        if child is not None and child.poll() is not None:
            return None
        if time.monotonic() >= deadline:
            return None
        progress.tick()
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def _terminate(child: subprocess.Popen) -> None:
    """End a spawned daemon that never became healthy (its whole session: it leads one)."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(child.pid, sig)
        except OSError:
            return
        try:
            child.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def ensure_local_daemon(endpoint: Endpoint, env: ClientEnvironment) -> dict:
    """Make sure a daemon answers at ``endpoint`` (a loopback http URL), spawning one in
    local mode if nothing listens. Returns its health body."""
    if not endpoint.is_loopback:
        raise CliError(f"no daemon answers at {endpoint.url}, and the CLI only starts one for a "
                       "local http URL (127.0.0.1, localhost, ::1)", EXIT_UNREACHABLE)
    body = probe_health(endpoint)
    if body is not None:
        return body
    _ensure_home(env.home)
    fd = _open_pid_file(env.pid_file, create=True)
    assert fd is not None
    try:
        if _try_lock(fd):
            return _spawn_locked(endpoint, env, fd)
        return _wait_for_other_spawner(endpoint, env, fd)
    finally:
        os.close(fd)


def _wait_for_other_spawner(endpoint: Endpoint, env: ClientEnvironment, fd: int) -> dict:
    record = _read_record(fd)
    if record and record.port is not None and record.port != endpoint.port:
        raise _other_port_error(endpoint, env, record)
    progress = Progress(f"waiting for the local daemon another mirage command is starting "
                        f"(log: {env.log_file})")
    body = _wait_healthy(endpoint, progress, time.monotonic() + STARTUP_TIMEOUT_S)
    if body is not None:
        progress.finish("ready")
        return body
    progress.finish("failed")
    record = _read_record(fd)
    if record and record.port is not None and record.port != endpoint.port:
        raise _other_port_error(endpoint, env, record)
    raise CliError(f"the local daemon (pid {record.pid if record else '?'}) did not answer at "
                   f"{endpoint.url} within {STARTUP_TIMEOUT_S:.0f} s; see {env.log_file}", EXIT_UNREACHABLE)


def _other_port_error(endpoint: Endpoint, env: ClientEnvironment, record: SpawnedDaemon) -> CliError:
    return CliError(
        f"a local daemon for {env.home} already runs on port {record.port} (pid {record.pid}), not at "
        f"{endpoint.url}; use --url http://127.0.0.1:{record.port}, or stop it first with "
        f"`mirage daemon stop --url http://127.0.0.1:{record.port}`", EXIT_UNREACHABLE)


def _spawn_locked(endpoint: Endpoint, env: ClientEnvironment, lock_fd: int) -> dict:
    from mirage.auth.token_file import TokenFileError, mint_or_load

    # A daemon may have come up between our probe and the lock (a system one, or a manual one).
    body = probe_health(endpoint)
    if body is not None:
        return body
    try:
        mint_or_load(env.token_file)
    except TokenFileError as exc:
        raise CliError(f"cannot prepare the local token file: {exc}", EXIT_REQUEST) from None

    log_flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        log_fd = os.open(env.log_file, log_flags, 0o600)
    except OSError as exc:
        raise CliError(f"cannot open {env.log_file}: {exc.strerror or exc}", EXIT_REQUEST) from None
    try:
        log_offset = os.lseek(log_fd, 0, os.SEEK_END)
        command = [sys.executable, "-m", "mirage", "daemon", "run",
                   "--host", endpoint.bind_host, "--port", str(endpoint.port)]
        try:
            child = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=subprocess.STDOUT,
                cwd=str(env.home), env=_child_environment(env), start_new_session=True,
                pass_fds=(lock_fd,),
            )
        except OSError as exc:
            raise CliError(f"cannot start `mirage daemon run`: {exc.strerror or exc}", EXIT_UNREACHABLE) from None
    finally:
        os.close(log_fd)
    _write_record(lock_fd, child.pid, endpoint.port)

    progress = Progress(f"starting a local daemon at {endpoint.url} (log: {env.log_file})")
    body = _wait_healthy(endpoint, progress, time.monotonic() + STARTUP_TIMEOUT_S, child)
    if body is not None:
        progress.finish(f"ready (pid {child.pid})")
        return body
    progress.finish("failed")
    code = child.poll()
    if code is None:
        _terminate(child)
        why = f"did not answer at {endpoint.url} within {STARTUP_TIMEOUT_S:.0f} s (stopped it)"
    else:
        why = f"exited with status {code}"
    raise CliError(f"the local daemon {why}; last lines of {env.log_file}:\n"
                   f"{_log_tail(env.log_file, log_offset)}", EXIT_UNREACHABLE)


# ---------------------------------------------------------------- stopping

def _looks_like_mirage(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except FileNotFoundError:
        return False
    except OSError:
        return True      # no /proc access: the held lock is our evidence
    return any(b"mirage" in part for part in argv) and b"daemon" in argv


def stop_spawned(env: ClientEnvironment, record: SpawnedDaemon) -> float:
    """SIGTERM the spawned daemon (graceful: it drains and persists) and wait until its lock is
    released. Returns the seconds it took."""
    if record.pid <= 0:
        raise CliError(f"{env.pid_file} is locked but holds no pid; a daemon may be starting — "
                       "try again in a few seconds", EXIT_REQUEST)
    if not _looks_like_mirage(record.pid):
        raise CliError(f"pid {record.pid} from {env.pid_file} is not a mirage daemon; not signalling it",
                       EXIT_REQUEST)
    try:
        os.kill(record.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    except PermissionError:
        raise CliError(f"not allowed to signal pid {record.pid}", EXIT_REQUEST) from None
    start = time.monotonic()
    progress = Progress(f"stopping the local daemon (pid {record.pid}); it finishes in-flight requests first")
    while running_spawned_daemon(env) is not None:
        if time.monotonic() - start > STOP_TIMEOUT_S:
            progress.finish("still running")
            raise CliError(f"the local daemon (pid {record.pid}) is still running {STOP_TIMEOUT_S:.0f} s "
                           f"after SIGTERM; see {env.log_file} (kill -9 {record.pid} loses nothing "
                           "acknowledged, but ends in-flight requests)", EXIT_REQUEST)
        progress.tick()
        time.sleep(0.05)
    progress.finish("stopped")
    return time.monotonic() - start
