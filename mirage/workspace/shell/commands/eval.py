"""eval ARG... / source FILE — run text as shell code in the current shell."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import dec
from mirage.workspace.shell.io import IO
from mirage.workspace.vfs.base import VfsError

NAMES = ("eval", "source", ".")


async def run(inv) -> int:
    io = IO(inv.stdin, inv.stdout, inv.stderr)
    if inv.name == "eval":
        return await inv.interp.run_source(" ".join(inv.args), inv.state, io)
    if not inv.args:
        await inv.error("filename argument required")
        return 2
    try:
        text = dec(await inv.read_file(inv.args[0]))
    except VfsError as exc:
        await inv.error(f"{exc.path}: {exc.detail}")
        return 1
    saved = inv.state.positional
    if len(inv.args) > 1:
        inv.state.positional = inv.args[1:]
    try:
        return await inv.interp.run_source(text, inv.state, io)
    finally:
        inv.state.positional = saved
