"""export / declare / local / readonly / typeset / unset — variable attributes.

Assignments in ``export a=1`` were already made by the interpreter; here the
names are marked (or listed, with no names)."""

from __future__ import annotations

import re

NAMES = ("export", "declare", "typeset", "local", "readonly", "unset")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


async def run(inv) -> int:
    state = inv.state
    args = list(inv.args)
    flags = set()
    while args and args[0].startswith(("-", "+")) and len(args[0]) > 1 and args[0] != "--":
        flags.update(args.pop(0)[1:])
    if args and args[0] == "--":
        args.pop(0)
    status = 0
    if inv.name == "unset":
        for name in args:
            if "f" in flags:
                state.functions.pop(name, None)
            else:
                state.unset(name)
        return 0
    if inv.name == "export" and "n" in flags:
        for name in args:
            state.exported.discard(name)
        return 0
    if not args:
        names = sorted(state.exported) if inv.name == "export" else sorted(state.vars)
        for name in names:
            if name in state.vars:
                prefix = "declare -x " if inv.name == "export" else ""
                value = _quote(state.vars[name]) if inv.name == "export" else state.vars[name]
                await inv.out(f"{prefix}{name}={value}\n")
        return 0
    for name in args:
        if not _NAME.fullmatch(name):
            await inv.error(f"`{name}': not a valid identifier")
            status = 1
            continue
        if inv.name == "export" or "x" in flags:
            state.exported.add(name)
    return status
