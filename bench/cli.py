"""How fast does `mirage workspace list` feel? Wall time against a running daemon, next to
bare Python start-up (`python -c pass`) measured in the same run, alternating, median of N.

    .venv/bin/python bench/cli.py [--runs 40] [--mode token|local] [--workspaces 5] [--instructions]

Goal (issue 6): median ≤ 0.15 s and ≤ 3× bare Python start-up. Exit status 1 when a goal is
missed. Wall time on a shared machine moves with its load, so the run also prints the load
average, each process's CPU time (user+sys) and, with --instructions, the instruction counts
of one run of each under valgrind (callgrind): a figure that does not depend on the load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PYTHON = sys.executable
MIRAGE = str(Path(sys.executable).parent / "mirage")
TOKEN = "bench-token-0123456789abcdef"
GOAL_SECONDS = 0.15
GOAL_RATIO = 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_health(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/v1/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"daemon at {url} did not come up")


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.read().decode()[-500:]}")
    proc.stderr.close()
    return elapsed, usage.ru_utime + usage.ru_stime


def instructions(argv: list[str], env: dict[str, str]) -> int | None:
    if shutil.which("valgrind") is None:
        return None
    result = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    for line in result.stderr.splitlines():
        if "Collected" in line:
            return int(line.split()[-1])
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40, help="runs of each command (alternating)")
    parser.add_argument("--mode", choices=("token", "local"), default="token",
                        help="token: MIRAGE_TOKEN; local: the CLI spawns the daemon and reads ~/.mirage/auth_token")
    parser.add_argument("--workspaces", type=int, default=5, help="workspaces to create before measuring")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions of one run of each under valgrind")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="mirage-bench-cli-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIRAGE_")}
    env.update(HOME=str(home), MIRAGE_DAEMON_URL=url)
    daemon: subprocess.Popen | None = None
    try:
        if args.mode == "token":
            daemon_env = dict(env, MIRAGE_AUTH_MODE="token", MIRAGE_AUTH_TOKEN=TOKEN,
                              MIRAGE_HOME=str(home / ".mirage"), MIRAGE_LOG_ACCESS="false")
            daemon_env.pop("MIRAGE_DAEMON_URL")
            daemon = subprocess.Popen([MIRAGE, "daemon", "run", "--port", str(port)], env=daemon_env,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            env["MIRAGE_TOKEN"] = TOKEN
            wait_health(url)
        else:
            spawned = subprocess.run([MIRAGE, "daemon", "status", "--spawn"], env=env,
                                     stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if spawned.returncode != 0:
                raise SystemExit(f"spawning failed: {spawned.stderr}")
        (home / "ws.yaml").write_text("mounts:\n  /: {vfs: ram, mode: WRITE}\n")
        for i in range(args.workspaces):
            subprocess.run([MIRAGE, "workspace", "create", str(home / "ws.yaml"), "--id", f"bench{i}"],
                           env=env, stdin=subprocess.DEVNULL, capture_output=True)
        listed = subprocess.run([MIRAGE, "workspace", "list", "--json"], env=env, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True)
        count = len(json.loads(listed.stdout)) if listed.returncode == 0 else "?"

        bare = [PYTHON, "-c", "pass"]
        cli = [MIRAGE, "workspace", "list"]
        for _ in range(3):                       # warm the page cache and .pyc files
            timed(bare, env)
            timed(cli, env)
        bare_runs, cli_runs = [], []
        load_before = os.getloadavg()[0]
        for _ in range(args.runs):
            bare_runs.append(timed(bare, env))
            cli_runs.append(timed(cli, env))
        load_after = os.getloadavg()[0]
        counts = (instructions(bare, env), instructions(cli, env)) if args.instructions else None
    finally:
        if daemon is not None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(20)
            except subprocess.TimeoutExpired:
                daemon.kill()
        else:
            subprocess.run([MIRAGE, "daemon", "stop"], env=env, stdin=subprocess.DEVNULL, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)

    bare_times = [wall for wall, _ in bare_runs]
    cli_times = [wall for wall, _ in cli_runs]
    bare_median = statistics.median(bare_times)
    cli_median = statistics.median(cli_times)
    ratio = cli_median / bare_median
    bare_cpu = statistics.median(cpu for _, cpu in bare_runs)
    cli_cpu = statistics.median(cpu for _, cpu in cli_runs)
    print(f"mode={args.mode} runs={args.runs} (alternating) workspaces_listed={count} "
          f"load_average={load_before:.2f}->{load_after:.2f} cores={os.cpu_count()}")
    print(f"python -c pass          wall median {bare_median * 1000:7.1f} ms  "
          f"(min {min(bare_times) * 1000:.1f}, max {max(bare_times) * 1000:.1f})  cpu median {bare_cpu * 1000:.1f} ms")
    print(f"mirage workspace list   wall median {cli_median * 1000:7.1f} ms  "
          f"(min {min(cli_times) * 1000:.1f}, max {max(cli_times) * 1000:.1f})  cpu median {cli_cpu * 1000:.1f} ms")
    print(f"ratio                   {ratio:.2f}x bare Python start-up (wall medians); "
          f"{min(cli_times) / min(bare_times):.2f}x (minimums); {cli_cpu / bare_cpu:.2f}x (cpu)")
    if counts and all(counts):
        print(f"instructions            python -c pass {counts[0] / 1e6:.1f} M, mirage workspace list "
              f"{counts[1] / 1e6:.1f} M: {counts[1] / counts[0]:.2f}x")
    ok_time, ok_ratio = cli_median <= GOAL_SECONDS, ratio <= GOAL_RATIO
    print(f"goal ≤ {GOAL_SECONDS:.2f} s: {'met' if ok_time else 'MISSED'}; "
          f"goal ≤ {GOAL_RATIO:.0f}x: {'met' if ok_ratio else 'MISSED'}")
    return 0 if ok_time and ok_ratio else 1


if __name__ == "__main__":
    raise SystemExit(main())
