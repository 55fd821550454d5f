"""cp [-rRfanv] SRC... DEST and mv [-fnv] SRC... DEST (mv across mounts copies then removes)."""

from __future__ import annotations

import errno

from mirage.workspace.shell.commands._base import Usage, parse_flags
from mirage.workspace.shell.commands._fsutil import copy_tree, join, remove_tree, stat_or_none
from mirage.workspace.vfs.base import VfsError

NAMES = ("cp", "mv")


async def run(inv) -> int:
    opts, names = parse_flags(inv.args, "rRfanvpiuT", long={"recursive": "r", "force": "f",
                                                           "no-clobber": "n", "verbose": "v",
                                                           "archive": "a"})
    if len(names) < 2:
        raise Usage("missing file operand" if not names else
                    f"missing destination file operand after '{names[0]}'")
    *sources, dest = names
    dest_path = inv.path(dest)
    dest_st = await stat_or_none(inv, dest_path)
    into_dir = dest_st is not None and dest_st.is_dir and not opts.get("T")
    if len(sources) > 1 and not into_dir:
        await inv.error(f"target '{dest}' is not a directory")
        return 1
    recursive = opts.get("r") or opts.get("R") or opts.get("a")
    status = 0
    for src in sources:
        src_path = inv.path(src)
        target = join(dest_path, src_path.rsplit("/", 1)[-1] or "/") if into_dir else dest_path
        try:
            st = await inv.fs.stat(src_path)
            if target == src_path:
                await inv.error(f"'{src}' and '{dest}' are the same file")
                status = 1
                continue
            if opts.get("n") and await stat_or_none(inv, target) is not None:
                continue
            if inv.name == "cp":
                if st.is_dir and not recursive:
                    await inv.error(f"-r not specified; omitting directory '{src}'")
                    status = 1
                    continue
                existing = await stat_or_none(inv, target)
                if existing is not None and existing.is_dir and not st.is_dir:
                    await inv.error(f"cannot overwrite directory '{target}' with non-directory")
                    status = 1
                    continue
                await copy_tree(inv, src_path, target)
            else:
                if target.startswith(src_path.rstrip("/") + "/"):
                    await inv.error(f"cannot move '{src}' to a subdirectory of itself, "
                                    f"'{dest}/{src_path.rsplit('/', 1)[-1]}'")
                    status = 1
                    continue
                try:   # rename replaces an existing file itself: never unlink the target first
                    await inv.fs.rename(src_path, target)
                except VfsError as exc:
                    if exc.code != errno.EXDEV:
                        raise
                    await copy_tree(inv, src_path, target)
                    await remove_tree(inv, src_path)
            if opts.get("v"):
                await inv.out(f"'{src}' -> '{target}'\n")
        except VfsError as exc:
            if exc.code == errno.ENOENT and not await _exists(inv, src_path):
                await inv.error(f"cannot stat '{src}': {exc.detail}")
            elif inv.name == "mv":
                await inv.error(f"cannot move '{src}' to '{dest}': {exc.detail}")
            else:
                await inv.error(f"cannot create regular file '{dest}': {exc.detail}")
            status = 1
    return status


async def _exists(inv, path: str) -> bool:
    try:
        return await stat_or_none(inv, path) is not None
    except VfsError:
        return False
