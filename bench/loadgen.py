"""Drive a server with wrk and read back one result (requests/s, p50/p99 latency).

wrk (Debian's 4.1) is the load generator: written in C with an epoll loop, one wrk
thread on one core saturates a single-process Python server many times over, so
the figures measure the server, not the client. The request shape and the result
line come from ``wrk_report.lua``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
LUA_SCRIPT = BENCH_DIR / "wrk_report.lua"
WRK = shutil.which("wrk") or "/usr/bin/wrk"


@dataclass(frozen=True)
class Load:
    """What one wrk run sends."""

    path: str
    method: str = "GET"
    body: bytes | None = None          # may hold {{VAR}}
    auth: str | None = None            # Authorization header value
    id_max: int = 0                    # > 0: path holds %d, formatted with random 1..id_max
    thread_vars: tuple[str, ...] = ()  # one per wrk thread, substituted for {{VAR}}
    timeout_s: float = 10.0


@dataclass
class Result:
    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0


class LoadError(RuntimeError):
    pass


def run_wrk(url: str, load: Load, *, connections: int, duration_s: float, threads: int = 1,
            cpu: int | None = None, scratch: Path | None = None) -> Result:
    """One wrk run against ``url`` (scheme://host:port). Raises LoadError on failure."""
    threads = max(1, min(threads, connections))
    env = dict(os.environ)
    env.update({
        "BENCH_METHOD": load.method,
        "BENCH_PATH": load.path,
        "BENCH_AUTH": load.auth or "",
        "BENCH_ID_MAX": str(load.id_max),
        "BENCH_VARS": ",".join(load.thread_vars),
        "BENCH_BODY_FILE": "",
    })
    body_file = None
    try:
        if load.body is not None:
            fd, name = tempfile.mkstemp(prefix="wrk-body-", suffix=".json", dir=scratch)
            with os.fdopen(fd, "wb") as handle:
                handle.write(load.body)
            body_file = name
            env["BENCH_BODY_FILE"] = name
        duration = max(1, round(duration_s))
        cmd = [WRK, f"-t{threads}", f"-c{connections}", f"-d{duration}s",
               f"--timeout={max(1, round(load.timeout_s))}s", "-s", str(LUA_SCRIPT), url]
        if cpu is not None:
            cmd = ["taskset", "-c", str(cpu), *cmd]
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                  timeout=duration + load.timeout_s + 30)
        except subprocess.TimeoutExpired:
            raise LoadError(f"wrk did not finish within {duration + load.timeout_s + 30:.0f} s") from None
    finally:
        if body_file:
            os.unlink(body_file)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise LoadError(f"wrk failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-300:]}")
    data = json.loads(line.split(" ", 1)[1])
    errors = sum(data[k] for k in ("errors_connect", "errors_read", "errors_write",
                                   "errors_status", "errors_timeout"))
    return Result(
        requests=data["requests"], duration_s=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000, p90_ms=data["p90_us"] / 1000, p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000, errors=errors, raw=data,
    )


@dataclass
class Summary:
    """Median figures over several runs of one target."""

    rps: float
    p50_ms: float
    p99_ms: float
    runs: int
    errors: int

    @classmethod
    def of(cls, results: list[Result]) -> Summary:
        return cls(
            rps=statistics.median(r.rps for r in results),
            p50_ms=statistics.median(r.p50_ms for r in results),
            p99_ms=statistics.median(r.p99_ms for r in results),
            runs=len(results),
            errors=sum(r.errors for r in results),
        )


@dataclass
class Paired:
    """Alternating A/B runs: medians of each side and the median of the per-round ratios."""

    a: Summary
    b: Summary
    rps_ratio: float      # a / b (higher is better for a)
    p50_ratio: float      # a / b (lower is better for a)
    p99_ratio: float


def paired_runs(a: tuple[str, Load], b: tuple[str, Load], *, rounds: int, connections: int,
                duration_s: float, threads: int = 1, cpu: int | None = None,
                warmup_s: float = 1.0, scratch: Path | None = None) -> Paired:
    """Run A and B alternately (AB, BA, AB, ...) and pair each round's results."""
    def one(target: tuple[str, Load], seconds: float) -> Result:
        return run_wrk(target[0], target[1], connections=connections, duration_s=seconds,
                       threads=threads, cpu=cpu, scratch=scratch)

    if warmup_s > 0:
        one(a, warmup_s)
        one(b, warmup_s)
    a_results: list[Result] = []
    b_results: list[Result] = []
    for index in range(rounds):
        if index % 2 == 0:
            a_results.append(one(a, duration_s))
            b_results.append(one(b, duration_s))
        else:
            b_results.append(one(b, duration_s))
            a_results.append(one(a, duration_s))

    def ratio(attr: str) -> float:
        values = [getattr(x, attr) / getattr(y, attr) for x, y in zip(a_results, b_results)
                  if getattr(y, attr) > 0]
        return statistics.median(values) if values else float("nan")

    return Paired(a=Summary.of(a_results), b=Summary.of(b_results),
                  rps_ratio=ratio("rps"), p50_ratio=ratio("p50_ms"), p99_ratio=ratio("p99_ms"))


def repeated_runs(target: tuple[str, Load], *, rounds: int, connections: int, duration_s: float,
                  threads: int = 1, cpu: int | None = None, warmup_s: float = 1.0,
                  scratch: Path | None = None) -> Summary:
    """Several runs of one target (no partner), median figures."""
    def one(seconds: float) -> Result:
        return run_wrk(target[0], target[1], connections=connections, duration_s=seconds,
                       threads=threads, cpu=cpu, scratch=scratch)

    if warmup_s > 0:
        one(warmup_s)
    return Summary.of([one(duration_s) for _ in range(rounds)])


def with_errors(name: str, *summaries: Summary) -> str:
    """``name``, flagged when any run answered errors (non-2xx, timeouts, socket errors)."""
    errors = sum(s.errors for s in summaries if s is not None)
    return f"{name} ({errors:,} errors)" if errors else name
