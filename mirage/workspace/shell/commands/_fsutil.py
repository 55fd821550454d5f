"""Filesystem helpers shared by file commands: walking trees, copying, removing."""

from __future__ import annotations

import errno

from mirage.workspace.vfs.base import VfsError


def join(parent: str, name: str) -> str:
    return parent.rstrip("/") + "/" + name


async def walk(inv, path: str, *, max_depth: int | None = None, depth: int = 0):
    """Yield (path, stat, depth) pre-order, children sorted by name."""
    st = await inv.fs.stat(path)
    yield path, st, depth
    if st.is_dir and (max_depth is None or depth < max_depth):
        for name in await inv.fs.readdir(path):
            await inv.tick()
            async for item in walk(inv, join(path, name), max_depth=max_depth, depth=depth + 1):
                yield item


async def copy_tree(inv, src: str, dst: str) -> None:
    st = await inv.fs.stat(src)
    if st.is_dir:
        if dst == src or dst.startswith(src.rstrip("/") + "/"):
            raise VfsError(errno.EINVAL, dst, "cannot copy a directory into itself")
        await inv.fs.mkdir(dst, exist_ok=True)
        for name in await inv.fs.readdir(src):
            await inv.tick()
            await copy_tree(inv, join(src, name), join(dst, name))
    else:
        await inv.fs.write(dst, await inv.fs.read(src))


async def remove_tree(inv, path: str) -> None:
    st = await inv.fs.stat(path)
    if st.is_dir:
        for name in await inv.fs.readdir(path):
            await inv.tick()
            await remove_tree(inv, join(path, name))
        await inv.fs.rmdir(path)
    else:
        await inv.fs.unlink(path)


async def stat_or_none(inv, path: str):
    try:
        return await inv.fs.stat(path)
    except VfsError as exc:
        if exc.code in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise
