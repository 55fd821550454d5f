"""Sample a server with py-spy while wrk drives it; summarise where the time goes.

py-spy comes from PyPI into its own venv, bench/.scratch/tools (installed on first use).
Output per profile: the raw collapsed stacks (flamegraph.pl / speedscope read them) and a
text summary of the functions with the most self time and the most inclusive time.
"""

from __future__ import annotations

import subprocess
import threading
from collections import Counter
from pathlib import Path

from servers import SCRATCH

TOOLS = SCRATCH / "tools"
PY_SPY = TOOLS / "bin" / "py-spy"


def ensure_py_spy() -> Path:
    if not PY_SPY.exists():
        if not (TOOLS / "bin" / "python").exists():
            subprocess.run(["python3", "-m", "venv", str(TOOLS)], check=True)
        subprocess.run([str(TOOLS / "bin" / "pip"), "install", "-q", "py-spy"], check=True)
    return PY_SPY


def _short(frame: str) -> str:
    """'handle (/long/path/site-packages/sanic/app.py:123)' -> 'handle (sanic/app.py:123)'."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})" if where else name


def summarise(raw: Path, top: int = 18) -> str:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";") if f]
        if not frames:
            continue
        total += count
        self_time[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return "(no samples)"
    out = [f"{total} samples", "", "self time:"]
    out += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in self_time.most_common(top)]
    out += ["", "inclusive time:"]
    out += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top * 2)]
    return "\n".join(out) + "\n"


def profile_while(pid: int, drive, out_base: Path, seconds: int, cpu: int | None) -> Path:
    """Run ``drive()`` (a wrk run of about ``seconds``) while py-spy samples ``pid``.
    Returns the summary file; the collapsed stacks go to out_base.raw.txt."""
    spy = ensure_py_spy()
    out_base.parent.mkdir(parents=True, exist_ok=True)
    raw = out_base.with_suffix(".raw.txt")
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []

    def record(fmt: str, target: Path) -> subprocess.Popen:
        return subprocess.Popen([*pin, str(spy), "record", "--pid", str(pid), "--duration", str(seconds),
                                 "--rate", "200", "--nonblocking", "--format", fmt, "-o", str(target)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    spy_proc = record("raw", raw)
    worker = threading.Thread(target=drive)
    worker.start()
    worker.join()
    try:
        spy_proc.wait(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        spy_proc.kill()
        spy_proc.wait()
    summary = out_base.with_suffix(".summary.txt")
    summary.write_text(summarise(raw) if raw.exists() else "(py-spy wrote nothing)\n")
    return summary


def inclusive_shares(raw: Path) -> dict[str, float]:
    """frame -> share of samples (0..1) whose stack contains it."""
    counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        total += int(count_text)
        for frame in {_short(f) for f in stack.split(";") if f}:
            counts[frame] += int(count_text)
    return {frame: n / total for frame, n in counts.items()} if total else {}


def diff(ours: Path, baseline: Path, top: int = 25) -> str:
    """Frames whose inclusive share is larger in ``ours`` than in ``baseline`` (where the extra time goes)."""
    a, b = inclusive_shares(ours), inclusive_shares(baseline)
    # process roots (entry point, event loop) differ by name and hold everything: leave them out
    frames = {f for f in set(a) | set(b) if max(a.get(f, 0), b.get(f, 0)) < 0.5}
    rows = sorted(((a.get(f, 0) - b.get(f, 0), f) for f in frames), reverse=True)
    out = [f"inclusive share, {ours.name} minus {baseline.name}:"]
    out += [f"  {100 * d:+6.1f} pts  ours {100 * a.get(f, 0):5.1f}%  base {100 * b.get(f, 0):5.1f}%  {f}"
            for d, f in rows[:top]]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "diff":
        print(diff(Path(sys.argv[2]), Path(sys.argv[3])), end="")
    elif len(sys.argv) == 3 and sys.argv[1] == "summary":
        print(summarise(Path(sys.argv[2])), end="")
    else:
        print("usage: profiler.py summary RAW | profiler.py diff OURS.raw.txt BASELINE.raw.txt", file=sys.stderr)
        raise SystemExit(2)
