"""The daemon under mirage.service's sandbox, as far as it can be reproduced without
systemd as PID 1 (the booted-container package tests cover the rest; see the report).

* MemoryDenyWriteExecute=yes: reproduced with the kernel's own MDWE (prctl
  PR_SET_MDWE, Linux >= 6.3), which refuses the same W+X mappings and exec-gaining
  mprotect() calls that systemd's seccomp filter refuses.
* SystemCallFilter= / RestrictAddressFamilies=: every system call and socket family
  the daemon makes during a run (start, requests, reload, refused auth, stop) is
  traced with strace and checked against the unit's filter, expanded by
  ``systemd-analyze syscall-filter``.
* ProtectSystem=strict, User=, NoNewPrivileges=, CapabilityBoundingSet=: the daemon
  runs as an unprivileged uid without capabilities on a read-only root except its home.
* PrivateNetwork=yes: the daemon runs in a fresh network namespace (``unshare --net``)
  and serves the socket created in the host namespace, as systemd passes it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from systemd_helpers import (  # noqa: F401  (harness is a fixture)
    GOOD_TOKEN, HAND_OVER_FD3, MIRAGE, OTHER_TOKEN, Process, activator_argv, call, exercise_workspace, free_port, harness, http, write_config,
)

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "mirage.service"

# argv: PROGRAM ARGS... — exec PROGRAM with memory-deny-write-execute in force
_WITH_MDWE = """
import ctypes, os, sys
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    sys.exit(77)
os.execv(sys.argv[1], sys.argv[1:])
"""


def _mdwe_supported() -> bool:
    probe = subprocess.run([sys.executable, "-c", _WITH_MDWE, "/bin/true"], capture_output=True)
    return probe.returncode == 0


def _unit_values(name: str) -> list[str]:
    return [line.split("=", 1)[1] for line in UNIT.read_text().splitlines() if line.startswith(f"{name}=")]


def test_unit_asks_for_the_restrictions_these_tests_reproduce():
    assert _unit_values("MemoryDenyWriteExecute") == ["yes"]
    assert _unit_values("SystemCallFilter") == ["@system-service", "~@privileged @resources"]
    assert _unit_values("RestrictAddressFamilies") == ["AF_UNIX AF_INET AF_INET6"]


def test_python_crypto_and_event_loop_work_without_writable_executable_memory():
    if not _mdwe_supported():
        pytest.skip("kernel without PR_SET_MDWE (Linux < 6.3): MemoryDenyWriteExecute is checked in the booted container")
    check = """
import mmap, uvloop, asyncio, jwt, ctypes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    raise SystemExit("W+X mapping was allowed: MDWE not in force")
except PermissionError:
    pass
for key, alg in ((rsa.generate_private_key(65537, 2048), "RS256"), (rsa.generate_private_key(65537, 2048), "PS256"),
                 (ec.generate_private_key(ec.SECP256R1()), "ES256"), (ed25519.Ed25519PrivateKey.generate(), "EdDSA")):
    assert jwt.decode(jwt.encode({"sub": "a"}, key, algorithm=alg), key.public_key(), algorithms=[alg]) == {"sub": "a"}
async def main():
    await asyncio.sleep(0)
    return 42
assert uvloop.run(main()) == 42
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", _WITH_MDWE, sys.executable, "-c", check],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_daemon_serves_reloads_and_stops_under_memory_deny_write_execute(harness, tmp_path):
    if not _mdwe_supported():
        pytest.skip("kernel without PR_SET_MDWE (Linux < 6.3): MemoryDenyWriteExecute is checked in the booted container")
    listener = harness.notify_listener()
    env = harness.env(NOTIFY_SOCKET=listener.address, WATCHDOG_USEC="1000000")
    process, (address,) = harness.activated(
        env, daemon=[sys.executable, "-c", _WITH_MDWE, str(MIRAGE), "daemon", "run"])
    assert http(address)[0] == 200
    assert http(address, path="/v1/x", token=GOOD_TOKEN)[0] == 404
    assert http(address, path="/v1/x", token="bad")[0] == 401
    exercise_workspace(address, GOOD_TOKEN)
    write_config(tmp_path / "mirage.yaml", token=OTHER_TOKEN)
    process.signal(signal.SIGHUP)
    process.wait_log("reloaded")
    assert http(address, path="/v1/x", token=OTHER_TOKEN)[0] == 404
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0
    assert listener.count("READY", "1") == 2 and listener.count("STOPPING", "1") == 1


def _expand_groups() -> dict[str, set[str]]:
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout
    groups: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("@"):
            current = line.strip()
            groups[current] = []
        elif current and line.strip() and not line.strip().startswith("#"):
            groups[current].append(line.strip())

    def expand(name: str, seen=()) -> set[str]:
        names = set()
        for item in groups[name]:
            names |= expand(item, seen + (name,)) if item.startswith("@") else {item}
        return names
    return {name: expand(name) for name in groups}


def _allowed_syscalls() -> set[str]:
    groups = _expand_groups()

    def names(spec: str) -> set[str]:
        result = set()
        for item in spec.split():
            result |= groups[item] if item.startswith("@") else {item}
        return result
    allowed: set[str] = set()
    for value in _unit_values("SystemCallFilter"):
        if value.startswith("~"):
            allowed -= names(value[1:])
        else:
            allowed |= names(value)
    return allowed


def test_every_system_call_and_socket_family_the_daemon_uses_passes_the_unit_filter(harness, tmp_path):
    if not shutil.which("strace") or not shutil.which("systemd-analyze"):
        pytest.skip("needs strace and systemd-analyze (apt-get install strace systemd)")
    if subprocess.run(["strace", "-qq", "-o", "/dev/null", "/bin/true"], capture_output=True).returncode != 0:
        pytest.skip("ptrace is not permitted here: the syscall filter is checked in the booted container")
    listener = harness.notify_listener()
    env = harness.env(NOTIFY_SOCKET=listener.address, WATCHDOG_USEC="1000000",
                      JOURNAL_STREAM="0:0", MIRAGE_LOG_LEVEL="debug")
    trace = tmp_path / "trace.txt"
    address = f"127.0.0.1:{free_port()}"
    argv = ["strace", "-f", "-qq", "-o", str(trace), *activator_argv([address], env)]
    process = harness.track(Process(argv, {"PATH": "/usr/bin:/bin"}, tmp_path / "daemon.log"))
    process.wait_log(re.escape(f"Listening on {address}"))
    daemon_pid = int(Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()[0])
    assert http(address)[0] == 200
    assert http(address, path="/v1/x", token=GOOD_TOKEN)[0] == 404
    assert http(address, path="/v1/x", token="bad")[0] == 401
    exercise_workspace(address, GOOD_TOKEN)
    write_config(tmp_path / "mirage.yaml", token=OTHER_TOKEN)
    os.kill(daemon_pid, signal.SIGHUP)                  # strace is the parent: signal its child
    process.wait_log("reloaded", timeout=60)
    (tmp_path / "mirage.yaml").write_text("auth: [")
    os.kill(daemon_pid, signal.SIGHUP)
    process.wait_log("reload refused", timeout=60)
    os.kill(daemon_pid, signal.SIGTERM)
    assert process.wait_exit(timeout=60) == 0
    assert "stopped reason=SIGTERM" in process.log()

    lines = trace.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.search(r'execve\("' + re.escape(str(MIRAGE)), line))
    used: set[str] = set()
    families: set[str] = set()
    for line in lines[start:]:
        match = re.match(r"\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]", line)
        if match:
            used.add(match.group(1))
        family = re.search(r"\bsocket\((AF_[A-Z0-9]+)", line)
        if family:
            families.add(family.group(1))
    assert "accept4" in used or "accept" in used            # the trace really covers serving
    # the listening socket systemd passed (fd 3) is only ever close()d, never shutdown()
    assert not [line for line in lines[start:] if re.search(r"\bshutdown\(3,", line)]
    assert [line for line in lines[start:] if re.search(r"\bclose\(3\)", line)]
    forbidden = sorted(used - _allowed_syscalls() - {"exited", "killed"})
    assert forbidden == [], f"system calls outside SystemCallFilter=: {forbidden}"
    allowed_families = set(_unit_values("RestrictAddressFamilies")[0].split())
    assert families <= allowed_families, f"socket families outside RestrictAddressFamilies=: {families}"





def test_daemon_in_a_private_network_namespace_serves_the_socket_it_was_given(harness, tmp_path):
    """PrivateNetwork=yes: the daemon runs in an empty network namespace (only its own
    loopback) while the socket systemd made in the host namespace keeps serving."""
    assert _unit_values("PrivateNetwork") == ["yes"]
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--net", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot create a network namespace here (needs unshare and root)")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    address = "127.0.0.1:%d" % listener.getsockname()[1]
    try:
        env = {"PATH": os.environ["PATH"], **harness.env()}
        process = harness.track(Process(
            [unshare, "--net", sys.executable, "-c", HAND_OVER_FD3, str(listener.fileno()), str(MIRAGE), "daemon",
             "run"], env, tmp_path / "daemon.log", pass_fds=[listener.fileno()]))
        process.wait_log("ready")
        daemon_pid = process.pid                       # unshare execs the launcher, which execs mirage
        interfaces = {line.split(":")[0].strip() for line in
                      Path(f"/proc/{daemon_pid}/net/dev").read_text().splitlines()[2:]}
        assert interfaces == {"lo"}
        assert os.readlink(f"/proc/{daemon_pid}/ns/net") != os.readlink("/proc/self/ns/net")
        assert http(address)[0] == 200
        exercise_workspace(address, GOOD_TOKEN)
        process.signal(signal.SIGTERM)
        assert process.wait_exit() == 0
    finally:
        listener.close()


def test_unprivileged_daemon_writes_nothing_outside_its_home_on_a_read_only_root(harness, tmp_path):
    """ProtectSystem=strict (+ PrivateTmp=), User=, NoNewPrivileges=, CapabilityBoundingSet=:
    a private mount namespace whose root is remounted read-only (so /tmp, /usr, /etc and
    the venv are too) with only MIRAGE_HOME bound writable, and the daemon dropped to an
    unprivileged uid with no capabilities and no_new_privs. It starts, stores a
    workspace, reloads, stops, and the next run finds the workspace."""
    assert _unit_values("ProtectSystem") == ["strict"]
    assert _unit_values("NoNewPrivileges") == ["yes"] and _unit_values("CapabilityBoundingSet") == [""]
    unshare, setpriv = shutil.which("unshare"), shutil.which("setpriv")
    if unshare is None or setpriv is None or os.geteuid() != 0 or \
            subprocess.run([unshare, "--mount", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs root, unshare and setpriv (util-linux) to build the sandbox")
    uid = gid = 65534                                   # nobody
    base = Path(tempfile.mkdtemp(prefix="mirage-sandbox-", dir="/tmp"))
    try:
        base.chmod(0o755)
        home = base / "home"
        (home / ".mirage").mkdir(parents=True)
        for path in (home, home / ".mirage"):
            os.chown(path, uid, gid)
        config = write_config(base / "mirage.yaml")
        config.chmod(0o644)
        env = {"HOME": str(home), "MIRAGE_HOME": str(home / ".mirage"), "MIRAGE_CONFIG": str(config)}
        script = ('mount --bind "$1" "$1" && mount -o remount,bind,ro / && '
                  'if touch /tmp/.mirage-rw-probe 2>/dev/null; then echo "root still writable"; exit 3; fi; '
                  'shift; exec "$@"')
        drop = [setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--no-new-privs",
                "--bounding-set=-all", "--inh-caps=-all"]
        daemon = [unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(home),
                  *drop, str(MIRAGE), "daemon", "run"]

        process, (address,) = harness.activated(env, daemon=daemon, log_name="first.log")
        assert http(address)[0] == 200, process.log()
        exercise_workspace(address, GOOD_TOKEN, "on-ro-root")
        write_config(config, token=OTHER_TOKEN)
        process.signal(signal.SIGHUP)
        process.wait_log("reloaded")
        status = Path(f"/proc/{process.pid}/status").read_text()
        assert re.search(rf"^Uid:\s+{uid}\s", status, re.M) and re.search(r"^CapBnd:\s+0+$", status, re.M)
        assert re.search(r"^NoNewPrivs:\s+1$", status, re.M)
        process.signal(signal.SIGTERM)
        assert process.wait_exit() == 0, process.log()
        assert "Read-only file system" not in process.log() and "Permission denied" not in process.log()
        stored = [p for p in (home / ".mirage").rglob("*") if p.is_file()]
        assert stored and all(p.stat().st_uid == uid for p in stored)

        again, (address,) = harness.activated(env, daemon=daemon, log_name="second.log")
        status_code, result = call(address, "POST", "/v1/workspaces/on-ro-root/shell", OTHER_TOKEN,
                                   {"command": "cat /greeting"})
        assert status_code == 200 and result["stdout"] == "hello\n", (result, again.log())
        again.signal(signal.SIGTERM)
        assert again.wait_exit() == 0
    finally:
        shutil.rmtree(base, ignore_errors=True)
