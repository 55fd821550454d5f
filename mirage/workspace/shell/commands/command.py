"""command [-v|-V] NAME [ARG]..., type NAME..., which NAME... — what a name runs here.

Only workspace functions and commands exist: ``command -v ls`` prints ``ls``; a host
path such as ``/bin/sh`` is never found."""

from __future__ import annotations

from mirage.workspace.shell.commands import lookup
from mirage.workspace.shell.io import IO

NAMES = ("command", "type", "which")


def _kind(inv, name: str) -> str | None:
    if name in inv.state.functions:
        return "function"
    if "/" not in name and lookup(name) is not None:
        return "builtin"
    return None


async def run(inv) -> int:
    args = list(inv.args)
    if inv.name == "command":
        verbose = None
        while args and args[0] in ("-v", "-V", "-p"):
            flag = args.pop(0)
            if flag != "-p":
                verbose = flag
        if not args:
            return 0 if verbose is None else 1
        if verbose is None:
            if _kind(inv, args[0]) == "function":     # 'command' skips functions
                args = [args[0]] + args[1:]
            cmd = lookup(args[0]) if "/" not in args[0] else None
            if cmd is None:
                await inv.stderr.write(f"mirage: {args[0]}: command not found\n".encode())
                return 127
            return await inv.interp.invoke(cmd, args[0], args[1:], inv.state,
                                           IO(inv.stdin, inv.stdout, inv.stderr))
        status = 0
        for name in args:
            kind = _kind(inv, name)
            if kind is None:
                status = 1
                if verbose == "-V":
                    await inv.error(f"{name}: not found")
                continue
            await inv.out(name + "\n" if verbose == "-v" else f"{name} is a shell {kind}\n")
        return status
    status = 0
    for name in args:
        if name.startswith("-"):
            continue
        kind = _kind(inv, name)
        if kind is None:
            status = 1
            if inv.name == "type":
                await inv.error(f"{name}: not found")
            continue
        await inv.out(name + "\n" if inv.name == "which" else f"{name} is a shell {kind}\n")
    return status
