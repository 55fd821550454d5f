"""head [-n N|-N] [-c N] [-q|-v] [FILE]... and tail [-n [+]N] [-c N] [FILE]...

head reads stdin lazily, so ``yes | head -1`` stops the producer."""

from __future__ import annotations

import re

from mirage.workspace.shell.commands._base import Usage, parse_flags
from mirage.workspace.vfs.base import VfsError

NAMES = ("head", "tail")


def _count(text: str, name: str) -> tuple[int, bool]:
    """(number, from_start) — tail's '+N' counts from the start."""
    plus = text.startswith("+")
    body = text.lstrip("+")
    neg = body.startswith("-")
    body = body.lstrip("-")
    m = re.fullmatch(r"(\d+)([kKmM]?)", body)
    if not m:
        raise Usage(f"invalid number of lines: '{text}'")
    n = int(m.group(1)) * {"": 1, "k": 1024, "K": 1024, "m": 1 << 20, "M": 1 << 20}[m.group(2)]
    return (-n if neg else n), plus


def _normalise(args: list[str]) -> list[str]:
    out = []
    for a in args:
        if re.fullmatch(r"-\d+", a) and not (out and out[-1] in ("-n", "-c")):
            out.extend(["-n", a[1:]])
        else:
            out.append(a)
    return out


async def _head_stream(inv, stream, n: int, by_bytes: bool) -> None:
    if by_bytes:
        remaining = n
        while remaining > 0:
            chunk = await stream.read(min(remaining, 1 << 16))
            if not chunk:
                return
            await inv.out(chunk)
            remaining -= len(chunk)
        return
    for _ in range(n):
        line = await stream.readline()
        if not line:
            return
        await inv.out(line)


def _head_bytes(data: bytes, n: int, by_bytes: bool) -> bytes:
    if by_bytes:
        return data[:n] if n >= 0 else data[:max(0, len(data) + n)]
    lines = data.splitlines(keepends=True)
    return b"".join(lines[:n] if n >= 0 else lines[:max(0, len(lines) + n)])


def _tail_bytes(data: bytes, n: int, from_start: bool, by_bytes: bool) -> bytes:
    n = abs(n)
    if by_bytes:
        if from_start:
            return data[max(n - 1, 0):]
        return data[len(data) - n:] if n else b""
    lines = data.splitlines(keepends=True)
    if from_start:
        return b"".join(lines[max(n - 1, 0):])
    return b"".join(lines[len(lines) - n:]) if n else b""


async def run(inv) -> int:
    opts, files = parse_flags(_normalise(inv.args), "qvfF", with_value="nc",
                              long={"lines": "n", "bytes": "c", "quiet": "q", "silent": "q",
                                    "verbose": "v"})
    by_bytes = "c" in opts
    n, from_start = _count(opts.get("c") if by_bytes else opts.get("n", "10"), inv.name)
    files = files or ["-"]
    headers = (len(files) > 1 and not opts.get("q")) or opts.get("v")
    status = 0
    first = True
    for name in files:
        if headers:
            await inv.out(("" if first else "\n") + f"==> {'standard input' if name == '-' else name} <==\n")
        first = False
        if inv.name == "head" and name == "-" and n >= 0:
            await _head_stream(inv, inv.stdin, n, by_bytes)
            continue
        try:
            data = await inv.read_file(name)
        except VfsError as exc:
            await inv.error(f"cannot open '{exc.path}' for reading: {exc.detail}")
            status = 1
            continue
        if inv.name == "head":
            await inv.out(_head_bytes(data, n, by_bytes))
        else:
            await inv.out(_tail_bytes(data, n, from_start, by_bytes))
    return status
