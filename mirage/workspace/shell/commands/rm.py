"""rm [-rRfv] [-d] FILE..."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import Usage, parse_flags
from mirage.workspace.shell.commands._fsutil import remove_tree
from mirage.workspace.vfs.base import VfsError

NAMES = ("rm",)


async def run(inv) -> int:
    opts, names = parse_flags(inv.args, "rRfvdi", long={"recursive": "r", "force": "f",
                                                       "verbose": "v", "dir": "d"})
    force = bool(opts.get("f"))
    recursive = bool(opts.get("r") or opts.get("R"))
    if not names:
        if force:
            return 0
        raise Usage("missing operand")
    status = 0
    for name in names:
        path = inv.path(name)
        if path == "/" or name.rstrip("/").endswith(("/.", "/..")) or name in (".", ".."):
            await inv.error(f"refusing to remove '.' or '..' directory: skipping '{name}'"
                            if path != "/" else "it is dangerous to operate recursively on '/'")
            status = 1
            continue
        try:
            st = await inv.fs.stat(path)
        except VfsError as exc:
            if not force:
                await inv.error(f"cannot remove '{name}': {exc.detail}")
                status = 1
            continue
        try:
            if st.is_dir:
                if recursive:
                    await remove_tree(inv, path)
                elif opts.get("d"):
                    await inv.fs.rmdir(path)
                else:
                    await inv.error(f"cannot remove '{name}': Is a directory")
                    status = 1
                    continue
            else:
                await inv.fs.unlink(path)
            if opts.get("v"):
                await inv.out(f"removed '{name}'\n")
        except VfsError as exc:
            await inv.error(f"cannot remove '{name}': {exc.detail}")
            status = 1
    return status
