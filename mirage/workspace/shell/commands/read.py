"""read [-r] [-p PROMPT] [-d DELIM] [-a] NAME... — one line of stdin into variables."""

from __future__ import annotations

import re

from mirage.workspace.shell.commands._base import dec, parse_flags

NAMES = ("read",)


async def run(inv) -> int:
    opts, names = parse_flags(inv.args, "rs", with_value="pdnt")
    raw = bool(opts.get("r"))
    delim = opts.get("d")
    if delim is not None:
        delim_b = (delim[:1] or "\0").encode()
        buf = bytearray()
        got_delim = False
        while True:
            ch = await inv.stdin.read(1)
            if not ch:
                break
            if ch == delim_b:
                got_delim = True
                break
            buf += ch
        line = dec(bytes(buf))
        eof = not got_delim
    else:
        data = await inv.stdin.readline()
        eof = not data.endswith(b"\n")
        line = dec(data).rstrip("\n") if data else ""
        if not data:
            for name in names or ["REPLY"]:
                inv.state.set(name, "")
            return 1
        while not raw and line.endswith("\\"):
            more = await inv.stdin.readline()
            line = line[:-1] + dec(more).rstrip("\n")
            if not more.endswith(b"\n"):
                eof = True
                break
    if not raw:
        line = re.sub(r"\\(.)", r"\1", line)
    names = names or ["REPLY"]
    if names == ["REPLY"] and not inv.args[-1:] == ["REPLY"]:
        inv.state.set("REPLY", line)
        return 1 if eof and not line else (1 if eof else 0)
    ifs = inv.state.get("IFS")
    ifs = " \t\n" if ifs is None else ifs
    ws = "".join(c for c in ifs if c in " \t\n")
    other = "".join(c for c in ifs if c not in " \t\n")
    text = line.strip(ws) if ws else line
    values: list[str] = []
    rest = text
    for i, name in enumerate(names):
        if i == len(names) - 1:
            if other and rest:
                rest = rest.rstrip(ws) if ws else rest
                rest = re.sub(f"[{re.escape(ws)}]*[{re.escape(other)}]$", "", rest) \
                    if rest and rest[-1] in other and rest.count(rest[-1]) == 1 else rest
            values.append(rest)
            break
        if not ifs:
            values.append(rest)
            rest = ""
            continue
        pattern = (f"[{re.escape(ws)}]*[{re.escape(other)}][{re.escape(ws)}]*|[{re.escape(ws)}]+"
                   if other and ws else f"[{re.escape(other)}]" if other else f"[{re.escape(ws)}]+")
        m = re.search(pattern, rest)
        if m:
            values.append(rest[:m.start()])
            rest = rest[m.end():]
        else:
            values.append(rest)
            rest = ""
    for name, value in zip(names, values + [""] * (len(names) - len(values))):
        inv.state.set(name, value)
    return 1 if eof else 0
