"""cd [DIR] — change the session's working directory (HOME, else /, by default; '-' is OLDPWD)."""

from __future__ import annotations

from mirage.workspace.vfs.base import VfsError

NAMES = ("cd",)


async def run(inv) -> int:
    args = [a for a in inv.args if a not in ("-L", "-P")]
    if len(args) > 1:
        await inv.error("too many arguments")
        return 1
    target = args[0] if args else (inv.state.get("HOME") or "/")
    if target == "-":
        target = inv.state.get("OLDPWD") or inv.state.cwd
        await inv.out(target + "\n")
    path = inv.path(target)
    try:
        st = await inv.fs.stat(path)
    except VfsError as exc:
        await inv.error(f"{target}: {exc.detail}")
        return 1
    if not st.is_dir:
        await inv.error(f"{target}: Not a directory")
        return 1
    inv.state.set("OLDPWD", inv.state.cwd)
    inv.state.cwd = path
    inv.state.set("PWD", path)
    return 0
