"""xargs [-n N] [-I REPL] [-d DELIM] [-0] [-r] [-t] [COMMAND [ARG]...] — runs workspace commands."""

from __future__ import annotations

import shlex

from mirage.workspace.shell.commands._base import Usage, dec
from mirage.workspace.shell.io import IO
from mirage.workspace.shell.streams import BytesIn

NAMES = ("xargs",)


async def run(inv) -> int:
    args = list(inv.args)
    max_args = None
    replace = None
    delim = None
    no_run_empty = False
    trace = False
    while args and args[0].startswith("-") and len(args[0]) > 1:
        a = args.pop(0)
        if a == "--":
            break
        if a in ("-n", "-I", "-d", "-L", "-P", "-s"):
            if not args:
                raise Usage(f"option requires an argument -- '{a[1]}'")
            value = args.pop(0)
        elif a[:2] in ("-n", "-I", "-d", "-L", "-P", "-s"):
            value = a[2:]
            a = a[:2]
        else:
            value = None
        if a == "-n" or a == "-L":
            max_args = int(value)
        elif a == "-I":
            replace = value
        elif a == "-i":
            replace = "{}"
        elif a == "-d":
            delim = value.encode().decode("unicode_escape")
        elif a == "-0":
            delim = "\0"
        elif a in ("-r", "--no-run-if-empty"):
            no_run_empty = True
        elif a == "-t":
            trace = True
        elif a in ("-P", "-s"):
            pass
        else:
            raise Usage(f"invalid option -- '{a.lstrip('-')}'")
    command = args or ["echo"]
    text = dec(await inv.stdin.read_all(limit=inv.interp.file_budget.limit))
    if replace is not None:
        items = [line for line in text.split("\n") if line.strip()]
    elif delim is not None:
        items = text.split(delim)
        if items and items[-1] in ("", "\n"):
            items.pop()
    else:
        try:
            items = shlex.split(text, posix=True)
        except ValueError as exc:
            await inv.error(f"unmatched quote: {exc}")
            return 1
    batches: list[list[str]] = []
    if replace is not None:
        batches = [[part.replace(replace, item) for part in command] for item in items]
    else:
        size = max_args or max(len(items), 1)
        for i in range(0, len(items), size):
            batches.append(command + items[i:i + size])
        if not batches and not no_run_empty:
            batches.append(list(command))
    status = 0
    io = IO(BytesIn(b""), inv.stdout, inv.stderr)
    for argv in batches:
        await inv.tick()
        if trace:
            await inv.stderr.write((" ".join(argv) + "\n").encode())
        result = await inv.interp.run_argv(argv, inv.state.copy(), io)
        if result == 127:
            return 127
        if result:
            status = 123
    return status
