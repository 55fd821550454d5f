"""Scenario 5: scaling with the number of workspaces, memory, start-up and cold start.

scaling  list and get with 10, 1,000, 10,000 workspaces (created over HTTP, state.fsync=everysec
         so that set-up stays short); RSS (VmRSS from /proc/PID/status) idle and at each count.
startup  time from exec to READY=1 (a real AF_UNIX datagram NOTIFY_SOCKET listener) with 0 and
         1,000 persisted workspaces, falling back to the first GET /v1/health 200 when no
         READY=1 arrives (said in the table); and the first response of a socket-activated cold
         start via systemd-socket-activate. The baseline app is timed the same way.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import time
from pathlib import Path

from client import Client, wait_for_health
from context import Context
from loadgen import Load, LoadError, paired_runs, with_errors
from notify import NotifyListener
from report import ms, num, ratio, section
from servers import (BENCH_DIR, OUR_MIRAGE, OUR_PYTHON, Server, StartError, base_env, free_port, log_tail,
                     our_env, start_baseline, start_ours, stop_process)
from workspaces import RouteMissing, SetupFailed, create_many, ensure_workspace

ID_FORMAT = "ws-%06d"


def _ids(start: int, stop: int) -> list[str]:
    return [ID_FORMAT % n for n in range(start, stop + 1)]


def _mib(kib: int | None) -> str:
    return "–" if kib is None else f"{kib / 1024:.1f}"


def _list_count(server: Server) -> int | None:
    client = server.client(timeout=120)
    try:
        reply = client.get("/v1/workspaces")
    finally:
        client.close()
    data = reply.json()
    if reply.status != 200:
        return None
    if isinstance(data, dict):                          # tolerate {"workspaces": [...]}
        data = data.get("workspaces")
    return len(data) if isinstance(data, list) else None


def run_scaling(ctx: Context) -> None:
    section("scaling with the number of workspaces, memory")
    table = ctx.table("Scaling: list and get against the number of workspaces (token mode)",
                      ["scenario", "workspaces", "conns", "req/s", "p50 ms", "p99 ms", "req/s ×base",
                       "p99 ×base", "×base vs first count"])
    mem = ctx.table("Memory (VmRSS)", ["process", "workspaces", "RSS MiB", "×baseline idle"])
    try:
        baseline = ctx.keep(start_baseline(ctx.log_dir, ctx.temp_home("baseline-rss"), ctx.server_cpu))
    except StartError as exc:
        table.skip("all scaling scenarios", f"baseline did not start: {exc}")
        return
    time.sleep(0.5)
    base_rss = baseline.rss_kib()
    mem.add("baseline: plain Sanic app, idle", 0, _mib(base_rss), "1.00×")
    try:
        server = ctx.keep(start_ours(ctx.log_dir, ctx.temp_home("scaling"), ctx.server_cpu,
                                     label="mirage-scaling", mode="token", fsync="everysec"))
    except StartError as exc:
        table.skip("all scaling scenarios", str(exc))
        return
    time.sleep(0.5)
    idle = server.rss_kib()
    mem.add("mirage, idle (after start, before any workspace)", 0, _mib(idle),
            ratio(idle / base_rss) if idle and base_rss else "–")
    try:
        ensure_workspace(server, "ws-000001")
    except (RouteMissing, SetupFailed) as exc:
        table.skip("list / get", str(exc))
        mem.skip("mirage at 1,000 workspaces", str(exc))
        return
    have = 1
    first_ratio: dict[str, float] = {}
    conns = 16
    for level in sorted(ctx.args.workspaces):
        started = time.monotonic()
        try:
            if level > have:
                create_many(server, _ids(have + 1, level))
                have = level
        except (SetupFailed, OSError) as exc:
            table.skip(f"{level:,} workspaces", str(exc))
            break
        created_s = time.monotonic() - started
        counted = _list_count(server)
        print(f"  {level:,} workspaces ready ({created_s:.1f} s to create; list shows {counted})", flush=True)
        if counted is not None and counted < level:
            table.note(f"at {level:,}: list returned {counted} items (expected {level})")
        rss = server.rss_kib()
        mem.add("mirage", f"{level:,}", _mib(rss), ratio(rss / base_rss) if rss and base_rss else "–")
        for name, path, id_max in (("GET /v1/workspaces (list)", "/v1/workspaces", 0),
                                   ("GET /v1/workspaces/{id} (get)", "/v1/workspaces/" + ID_FORMAT, level)):
            ours = Load(path=path, auth=server.auth, id_max=id_max, timeout_s=60)
            try:
                pair = paired_runs((server.url, ours), (baseline.url, ours), rounds=ctx.rounds,
                                   connections=conns, duration_s=ctx.duration, cpu=ctx.client_cpu,
                                   scratch=ctx.run_dir)
            except LoadError as exc:
                table.note(f"{name} at {level:,}: {exc}")
                continue
            first_ratio.setdefault(name, pair.rps_ratio)
            table.add(with_errors(name, pair.a, pair.b), f"{level:,}", conns, num(pair.a.rps, 1),
                      ms(pair.a.p50_ms), ms(pair.a.p99_ms), ratio(pair.rps_ratio), ratio(pair.p99_ratio),
                      ratio(pair.rps_ratio / first_ratio[name]))
    table.note("workspaces created over HTTP with 16 concurrent clients, on a daemon with state.fsync=everysec; "
               "get picks a random existing id per request; each row alternates with the baseline answering "
               "the same path; the last column is req/s ×base relative to the smallest count")


# ---------------------------------------------------------------- start-up

def _timed_start(cmd: list[str], env: dict[str, str], port: int, log_path: Path, notify_path: Path,
                 cpu: int | None, timeout: float = 60.0) -> tuple[float | None, float | None, str, int]:
    """(seconds to READY=1 or None, seconds to first health 200 or None, log tail, workspaces)."""
    env = dict(env)
    env["NOTIFY_SOCKET"] = str(notify_path)
    with NotifyListener(notify_path) as listener, open(log_path, "ab") as log:
        full = ["taskset", "-c", str(cpu), *cmd] if cpu is not None else cmd
        started = time.monotonic()
        proc = subprocess.Popen(full, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=str(log_path.parent))
        try:
            health_at = wait_for_health(port, deadline=started + timeout, alive=lambda: proc.poll() is None)
            ready_at = listener.wait_ready(timeout=3.0 if health_at else 0.1)
            workspaces = -1
            if health_at:
                client = Client(port, timeout=10)
                try:
                    data = client.get("/v1/health").json() or {}
                    workspaces = int(data.get("workspaces", -1))
                except (OSError, ValueError, TypeError):
                    pass
                finally:
                    client.close()
        finally:
            stop_process(proc)
    return ((ready_at - started) if ready_at else None, (health_at - started) if health_at else None,
            log_tail(log_path, 3), workspaces)


def _persist_workspaces(ctx: Context, home: Path, count: int) -> str | None:
    """Create ``count`` workspaces in a daemon using ``home``, then stop it gracefully."""
    try:
        server = start_ours(ctx.log_dir, home, ctx.server_cpu, label="mirage-persist", mode="token",
                            fsync="everysec")
    except StartError as exc:
        return str(exc)
    try:
        ensure_workspace(server, _ids(1, 1)[0])
        create_many(server, _ids(2, count))
    except (RouteMissing, SetupFailed, OSError) as exc:
        return str(exc)
    finally:
        code = server.stop()
        if code not in (0, None):
            print(f"  note: the persisting daemon exited with {code}", flush=True)
    return None


def _cold_start(cmd: list[str], env: dict[str, str], log_path: Path, cpu: int | None,
                timeout: float = 30.0) -> tuple[float | None, str]:
    """Seconds from connect() to a complete 200 on a socket-activated server, or (None, why)."""
    port = free_port()
    activate = ["/usr/bin/systemd-socket-activate", "-l", f"127.0.0.1:{port}", "--fdname=http"]
    for name in sorted(env):
        activate.append(f"--setenv={name}")
    full = activate + cmd
    if cpu is not None:
        full = ["taskset", "-c", str(cpu), *full]
    log_path.write_bytes(b"")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(full, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=str(log_path.parent))
    try:
        deadline = time.monotonic() + 10
        while b"Listening on" not in log_path.read_bytes():
            if time.monotonic() > deadline or proc.poll() is not None:
                return None, f"systemd-socket-activate did not listen: {log_tail(log_path, 3)}"
            time.sleep(0.01)
        request = (f"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").encode()
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(request)
            chunks = []
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    if b"\r\n\r\n" in b"".join(chunks) and b'"status"' in b"".join(chunks):
                        break
            except TimeoutError:
                return None, (f"no answer within {timeout:.0f} s (does the daemon serve the inherited "
                              f"LISTEN_FDS socket yet?): {log_tail(log_path, 2)}")
        elapsed = time.monotonic() - started
        answer = b"".join(chunks)
        if not answer.startswith(b"HTTP/1.1 200"):
            return None, f"answer was {answer[:40]!r}: {log_tail(log_path, 2)}"
        return elapsed, ""
    finally:
        stop_process(proc)


def run_startup(ctx: Context) -> None:
    section("start-up to READY and socket-activated cold start")
    table = ctx.table("Start-up and cold start",
                      ["scenario", "to READY=1 ms", "to first 200 ms", "runs", "first 200 ×baseline", "note"])
    runs = 2 if ctx.quick else 5
    persisted = 1000

    def start_baseline_once() -> float | None:
        port = free_port()
        home = ctx.temp_home("baseline-start")
        _, health, _, _ = _timed_start(
            [str(OUR_PYTHON), str(BENCH_DIR / "baseline_app.py"), "--port", str(port)], base_env(home), port,
            ctx.log_dir / f"baseline-start-{port}.log", home / "notify", ctx.server_cpu)
        return health

    def start_ours_once(home: Path) -> tuple[float | None, float | None, str, int]:
        port = free_port()
        env = our_env(home, mode="token", fsync="everysec")
        return _timed_start([str(OUR_MIRAGE), "daemon", "run", "--port", str(port)], env, port,
                            ctx.log_dir / f"mirage-start-{port}.log", home / "notify", ctx.server_cpu)

    def median_ms(values: list[float]) -> float | None:
        return statistics.median(values) * 1000 if values else None

    def report(name: str, results: list[tuple[float | None, float | None, str, int]],
               base_ms: float | None, expect_count: int | None = None) -> None:
        ready = [r[0] for r in results if r[0] is not None]
        health = [r[1] for r in results if r[1] is not None]
        if not health:
            table.skip(name, "; ".join(sorted({r[2] for r in results})) or "did not start")
            return
        notes = []
        if len(ready) < len(health):
            notes.append("no READY=1 arrived (sd_notify not wired?): first 200 only")
        counts = sorted({r[3] for r in results if r[1] is not None})
        if expect_count is not None and counts != [expect_count]:
            notes.append(f"/v1/health reported {counts} workspaces after the restart (expected {expect_count})")
        health_ms = median_ms(health)
        table.add(name, ms(median_ms(ready)), ms(health_ms), len(health),
                  ratio(health_ms / base_ms) if base_ms else "–", "; ".join(notes))

    # exec → ready, 0 workspaces: baseline and ours alternately
    base_runs: list[float] = []
    ours_zero = []
    for _ in range(runs):
        health = start_baseline_once()
        if health is not None:
            base_runs.append(health)
        ours_zero.append(start_ours_once(ctx.temp_home("start0")))
    base_ms = median_ms(base_runs)
    if base_ms:
        table.add("baseline: plain Sanic app, exec →", "–", ms(base_ms), len(base_runs), "1.00×",
                  "no sd_notify in the baseline")
    report("mirage, exec →, 0 persisted workspaces", ours_zero, base_ms)

    persisted_home = ctx.temp_home("start1000")
    problem = _persist_workspaces(ctx, persisted_home, persisted)
    name = f"mirage, exec →, {persisted:,} persisted workspaces"
    if problem:
        table.skip(name, problem)
    else:
        report(name, [start_ours_once(persisted_home) for _ in range(runs)], base_ms, expect_count=persisted)

    # socket-activated cold start: connect → first complete response, daemon started by the connection
    base_cold, ours_cold, why_base, why_ours = [], [], "", ""
    for _ in range(runs):
        home = ctx.temp_home("cold-base")
        elapsed, why = _cold_start([str(OUR_PYTHON), str(BENCH_DIR / "baseline_app.py")], base_env(home),
                                   ctx.log_dir / f"cold-baseline-{len(base_cold)}.log", ctx.server_cpu)
        if elapsed is None:
            why_base = why
        else:
            base_cold.append(elapsed)
        home = ctx.temp_home("cold-ours")
        env = our_env(home, mode="token", fsync="everysec")
        elapsed, why = _cold_start([str(OUR_MIRAGE), "daemon", "run", "--port", str(free_port())], env,
                                   ctx.log_dir / f"cold-mirage-{len(ours_cold)}.log", ctx.server_cpu)
        if elapsed is None:
            why_ours = why
            break
        ours_cold.append(elapsed)
    base_cold_ms = statistics.median(base_cold) * 1000 if base_cold else None
    if base_cold_ms:
        table.add("baseline: socket-activated cold start, connect →", "–", ms(base_cold_ms),
                  len(base_cold), "1.00×", "")
    elif why_base:
        table.note(f"baseline cold start: {why_base}")
    if ours_cold:
        ours_ms = statistics.median(ours_cold) * 1000
        table.add("mirage: socket-activated cold start, connect →", "–", ms(ours_ms), len(ours_cold),
                  ratio(ours_ms / base_cold_ms) if base_cold_ms else "–", "")
    else:
        table.skip("mirage: socket-activated cold start", why_ours or "no successful run")
    table.note("exec → READY=1: a real AF_UNIX datagram NOTIFY_SOCKET listener; exec → first 200: GET /v1/health "
               "polled every 5 ms (the like-for-like figure against the baseline). Fresh process each run, "
               "baseline and ours alternately; the persisted case restarts on the state dir a daemon wrote and "
               "left with SIGTERM; token mode, state.fsync=everysec")
    table.note("cold start: `systemd-socket-activate -l 127.0.0.1:PORT --fdname=http <server>`; the clock "
               "starts at connect() and stops at the complete first response; the server is started by "
               "that connection")
