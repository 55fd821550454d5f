"""Boot a Debian root with systemd-nspawn and run commands inside it with nsenter.

The container gets its own network namespace (``--private-network``: only loopback,
so port 8765 inside never meets the host's), is not registered with machined
(``--register=no``, the host has no systemd) and stays in our cgroup (``--keep-unit``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/root",
    "TERM": "dumb",
    "SYSTEMD_PAGER": "",
    "SYSTEMD_COLORS": "0",
    "DEBIAN_FRONTEND": "noninteractive",
}


def die_with_parent() -> None:
    """preexec_fn: SIGTERM this child when the test process dies, however it dies, so a
    killed test run never leaves a container (or a build) running."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class ContainerError(AssertionError):
    """A command inside the container failed; carries its output."""


@dataclass
class HttpReply:
    status: int
    body: str

    def json(self):
        return json.loads(self.body)


class BootedContainer:
    def __init__(self, root: Path, log_path: Path):
        self.root = root
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.leader: int | None = None

    # ------------------------------------------------------------ life
    def boot(self, timeout: float = 180.0) -> float:
        """Boot, wait for `systemctl is-system-running`; returns the seconds it took."""
        started = time.monotonic()
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            ["systemd-nspawn", "-b", "--register=no", "--keep-unit", "--private-network",
             "--console=read-only", "--quiet", "-D", str(self.root)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=CLEAN_ENV, start_new_session=True, preexec_fn=die_with_parent)
        log.close()
        deadline = started + timeout
        self.leader = self._wait_for_leader(deadline)
        state = ""
        while time.monotonic() < deadline:
            result = self.run(["systemctl", "is-system-running", "--wait"], check=False,
                              timeout=max(1.0, deadline - time.monotonic()))
            state = result.stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.5)
        else:
            raise ContainerError(f"the container did not finish booting (state {state!r});"
                                 f" boot log: {self.boot_log()}")
        if state == "degraded":
            failed = self.run(["systemctl", "--failed", "--no-legend"], check=False).stdout
            raise ContainerError(f"the container booted degraded: {failed}")
        return time.monotonic() - started

    def _wait_for_leader(self, deadline: float) -> int:
        """The container's PID 1 as seen from the host: systemd, a child of nspawn."""
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ContainerError(f"systemd-nspawn exited with {self.process.returncode}:"
                                     f" {self.boot_log()}")
            for child in _children(self.process.pid):
                if _comm(child) == "systemd":
                    return child
            time.sleep(0.1)
        raise ContainerError(f"no systemd inside the container: {self.boot_log()}")

    def shutdown(self, timeout: float = 60.0) -> None:
        """Power off (nspawn turns SIGTERM into a clean shutdown), then make sure it's gone."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def boot_log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return "(no log)"

    # ------------------------------------------------------------ commands
    def run(self, argv: list[str], *, input: str | None = None, check: bool = True,
            timeout: float = 120.0) -> subprocess.CompletedProcess:
        """Run argv inside every namespace of the container, with a clean environment."""
        assert self.leader is not None
        command = ["nsenter", "-t", str(self.leader), "-a", "env", "-i"]
        command += [f"{k}={v}" for k, v in CLEAN_ENV.items()]
        result = subprocess.run(command + argv, input=input, capture_output=True, text=True,
                                timeout=timeout, env=CLEAN_ENV)
        if check and result.returncode != 0:
            raise ContainerError(f"{' '.join(argv)} exited {result.returncode}\n"
                                 f"stdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}")
        return result

    def sh(self, script: str, **kwargs) -> subprocess.CompletedProcess:
        return self.run(["sh", "-c", script], **kwargs)

    def write_file(self, path: str, text: str) -> None:
        """Write in place (keeps the file's owner and mode, as an editor would)."""
        self.run(["sh", "-c", 'cat > "$1"', "sh", path], input=text)

    def read_file(self, path: str) -> str:
        return self.run(["cat", path]).stdout

    def show(self, unit: str, *props: str) -> dict[str, str]:
        out = self.run(["systemctl", "show", unit, "-p", ",".join(props)]).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def is_active(self, unit: str) -> str:
        return self.run(["systemctl", "is-active", unit], check=False).stdout.strip()

    def http(self, method: str, path: str, *, token: str | None = None,
             body: dict | None = None, port: int = 8765, timeout: float = 30.0) -> HttpReply:
        """One request with curl inside the container; status 0 means no connection."""
        argv = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method,
                "--max-time", str(int(timeout))]
        if token is not None:
            argv += ["-H", f"Authorization: Bearer {token}"]
        if body is not None:
            argv += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        argv.append(f"http://127.0.0.1:{port}{path}")
        result = self.run(argv, input=json.dumps(body) if body is not None else None,
                          check=False, timeout=timeout + 10)
        text, _, code = result.stdout.rpartition("\n")
        return HttpReply(int(code or 0), text)

    def wait_until(self, predicate, what: str, timeout: float = 30.0, interval: float = 0.3):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        raise ContainerError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
