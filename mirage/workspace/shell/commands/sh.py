"""sh / bash -c STRING [NAME [ARG]...] | sh FILE [ARG]... — run shell text in a subshell
of the *workspace* shell (the same interpreter, the same workspace filesystem). There is
no host shell: '/bin/sh' (any name with a slash) is never found."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import Usage, dec
from mirage.workspace.shell.errors import ExitSignal
from mirage.workspace.shell.io import IO
from mirage.workspace.vfs.base import VfsError

NAMES = ("sh", "bash")


async def run(inv) -> int:
    args = list(inv.args)
    options = set()
    while args and args[0].startswith("-") and args[0] != "-c" and len(args[0]) > 1:
        flag = args.pop(0)
        if flag in ("-e", "-u", "-x", "-eu", "-ue", "-o"):
            options.update(c for c in flag[1:] if c in "eu")
            if flag == "-o" and args:
                args.pop(0)
            continue
        raise Usage(f"{flag}: invalid option (only -c STRING or a workspace script runs here)")
    if args and args[0] == "-c":
        if len(args) < 2:
            raise Usage("-c: option requires an argument")
        text, rest = args[1], args[2:]
        name, positional = (rest[0], rest[1:]) if rest else (inv.name, [])
    elif args:
        try:
            text = dec(await inv.read_file(args[0]))
        except VfsError as exc:
            await inv.error(f"{exc.path}: {exc.detail}")
            return 127
        name, positional = args[0], args[1:]
    else:
        text = dec(await inv.stdin.read_all(limit=inv.interp.file_budget.limit))
        name, positional = inv.name, []
    sub = inv.state.copy()
    sub.script_name = name
    sub.positional = positional
    sub.options |= options
    sub.functions = {}
    sub.vars = {k: v for k, v in sub.vars.items() if k in sub.exported}   # only the environment
    try:
        return await inv.interp.run_source(text, sub, IO(inv.stdin, inv.stdout, inv.stderr))
    except ExitSignal as exc:
        return exc.status
