"""paste [-s] [-d LIST] [FILE]... — merge lines of files side by side (or serially)."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import enc, dec, parse_flags, split_lines

NAMES = ("paste",)


def _delims(spec: str) -> list[str]:
    out, i = [], 0
    while i < len(spec):
        if spec[i] == "\\" and i + 1 < len(spec):
            out.append({"n": "\n", "t": "\t", "0": "", "\\": "\\"}.get(spec[i + 1], spec[i + 1]))
            i += 2
        else:
            out.append(spec[i])
            i += 1
    return out or [""]


async def run(inv) -> int:
    opts, files = parse_flags(inv.args, "s", with_value="d", long={"serial": "s",
                                                                   "delimiters": "d"})
    delims = _delims(opts.get("d", "\t"))
    inputs, status = await inv.read_inputs(files)
    columns = [[dec(line) for line in split_lines(data)] for _, data in inputs]
    out: list[str] = []
    if opts.get("s"):
        for col in columns:
            joined = ""
            for i, item in enumerate(col):
                joined += (delims[(i - 1) % len(delims)] if i else "") + item
            out.append(joined)
    else:
        for row in range(max((len(c) for c in columns), default=0)):
            line = ""
            for i, col in enumerate(columns):
                line += (delims[(i - 1) % len(delims)] if i else "") + (col[row] if row < len(col) else "")
            out.append(line)
    await inv.out(enc("".join(line + "\n" for line in out)))
    return status
