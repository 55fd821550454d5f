"""sort [-rnufbhVs] [-k POS1[,POS2]] [-t SEP] [-o FILE] [FILE]... (C locale byte order)."""

from __future__ import annotations

import re
from mirage.workspace.shell.commands._base import Usage, parse_flags, split_lines

NAMES = ("sort",)

_NUM = re.compile(rb"^\s*(-?\d*(?:\.\d+)?)")


def _num(field: bytes) -> float:
    m = _NUM.match(field)
    text = m.group(1) if m else b""
    try:
        return float(text) if text not in (b"", b"-", b".", b"-.") else 0.0
    except ValueError:
        return 0.0


_HUM = {b"": 1, b"K": 1e3, b"M": 1e6, b"G": 1e9, b"T": 1e12, b"k": 1e3}


def _human(field: bytes) -> float:
    m = re.match(rb"^\s*(-?\d*(?:\.\d+)?)([KMGTk]?)", field)
    if not m or m.group(1) in (b"", b"-"):
        return 0.0
    return float(m.group(1)) * _HUM.get(m.group(2), 1)


def _version_key(field: bytes):
    return [(0, int(p), b"") if p.isdigit() else (1, 0, p) for p in re.findall(rb"\d+|\D+", field)]


class _Key:
    def __init__(self, spec: str, global_flags: str):
        m = re.fullmatch(r"(\d+)(?:\.(\d+))?([a-zA-Z]*)(?:,(\d+)(?:\.(\d+))?([a-zA-Z]*))?", spec)
        if not m:
            raise Usage(f"invalid number at field start: invalid count at start of '{spec}'")
        self.f1 = int(m.group(1))
        self.c1 = int(m.group(2) or 0)
        self.f2 = int(m.group(4)) if m.group(4) else None
        self.c2 = int(m.group(5) or 0)
        flags = (m.group(3) or "") + (m.group(6) or "")
        self.flags = flags or global_flags
        if self.f1 < 1:
            raise Usage(f"invalid number at field start: invalid count at start of '{spec}'")


def _fields(line: bytes, sep: bytes | None) -> list[tuple[int, int]]:
    """(start, end) spans of fields; without -t a field includes its leading blanks."""
    spans = []
    if sep is not None:
        start = 0
        while True:
            idx = line.find(sep, start)
            if idx < 0:
                spans.append((start, len(line)))
                return spans
            spans.append((start, idx))
            start = idx + len(sep)
    i = 0
    n = len(line)
    while i < n:
        start = i
        while i < n and line[i] in b" \t":
            i += 1
        while i < n and line[i] not in b" \t":
            i += 1
        spans.append((start, i))
    return spans


def _extract(line: bytes, key: _Key, sep: bytes | None) -> bytes:
    spans = _fields(line, sep)
    if key.f1 > len(spans):
        return b""
    start = spans[key.f1 - 1][0]
    if "b" in key.flags:
        while start < len(line) and line[start] in b" \t":
            start += 1
    if key.c1:
        start = min(start + key.c1 - 1, len(line))
    if key.f2 is None:
        end = len(line)
    elif key.f2 > len(spans):
        end = len(line)
    else:
        s2, e2 = spans[key.f2 - 1]
        if key.c2:
            if sep is None:
                while s2 < e2 and line[s2] in b" \t":
                    s2 += 1
            end = min(s2 + key.c2, e2)
        else:
            end = e2
    return line[start:end] if end > start else b""


def _key_value(flags: str, a: bytes):
    """A sortable value for one key under its flags (C-locale byte order for text)."""
    if "n" in flags or "g" in flags:
        return _num(a)
    if "h" in flags:
        return _human(a)
    if "V" in flags:
        return _version_key(a)
    if "b" in flags:
        a = a.lstrip(b" \t")
    if "d" in flags:
        a = bytes(c for c in a if chr(c).isalnum() or c in b" \t")
    if "f" in flags:
        a = a.upper()
    return a


async def run(inv) -> int:
    opts, files = parse_flags(inv.args, "rnufbhVsgdcmMR", with_value="kto", long={
        "reverse": "r", "numeric-sort": "n", "unique": "u", "ignore-case": "f",
        "key": "k", "field-separator": "t", "output": "o", "human-numeric-sort": "h",
        "version-sort": "V", "stable": "s", "general-numeric-sort": "g"})
    sep = opts.get("t")
    sep_b = sep.encode() if sep is not None else None
    if sep is not None and len(sep_b) != 1:
        raise Usage("multi-character tab '" + sep + "'")
    global_flags = "".join(f for f in "nfbhVgdr" if opts.get(f))
    keys = [_Key(k, global_flags) for k in opts.get("k*", [])]
    inputs, status = await inv.read_inputs(files)
    if status:
        return 2
    lines: list[bytes] = []
    for _, data in inputs:
        lines.extend(split_lines(data))
    reverse = bool(opts.get("r"))
    last_resort = not opts.get("s") and not opts.get("u")
    order = list(range(len(lines)))
    columns: list[list] = []

    async def values(flags: str, key: _Key | None) -> list:
        out = []
        for i, line in enumerate(lines):
            if i & 4095 == 0:
                await inv.tick()
            out.append(_key_value(flags, _extract(line, key, sep_b) if key else line))
        return out

    # stable sorts from the least to the most significant key (each with its own -r)
    if last_resort and (keys or global_flags.replace("r", "")):
        order.sort(key=lines.__getitem__, reverse=reverse)
        await inv.tick()
    if keys:
        for key in reversed(keys):
            column = await values(key.flags, key)
            columns.insert(0, column)
            order.sort(key=column.__getitem__, reverse="r" in key.flags)
            await inv.tick()
    else:
        column = await values(global_flags, None)
        columns.append(column)
        order.sort(key=column.__getitem__, reverse=reverse)
        await inv.tick()
    if opts.get("u"):
        unique: list[int] = []
        for i in order:
            if not unique or any(c[unique[-1]] != c[i] for c in columns):
                unique.append(i)
        order = unique
    lines = [lines[i] for i in order]
    data = b"".join(line + b"\n" for line in lines)
    if "o" in opts:
        await inv.fs.write(inv.path(opts["o"]), data)
        return 0
    await inv.out(data)
    return 0
