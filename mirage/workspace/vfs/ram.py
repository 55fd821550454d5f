"""The ``ram`` backend: a per-workspace tree held in memory.

Every call runs to completion without awaiting, so under asyncio each call is
atomic: concurrent writers never interleave inside one call and never lose one.

Durability is not this module's business, but it makes it possible: every
successful mutation is reported, synchronously and in order, to ``journal``
(a callable taking ``(header: dict, data: bytes)``) — the workspace's state
store appends it to its log. ``apply`` replays such a record (restore), and
``dump`` yields records that rebuild the whole tree (snapshots).
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Iterator
from typing import Any

from mirage.workspace.vfs.base import FileStat, Mount, VfsError

Journal = Callable[[dict[str, Any], bytes], None]

FILE_MODE = 0o644
DIR_MODE = 0o755
MAX_FILE_BYTES = 1 << 30      # one RAM file; beyond → EFBIG (a truncate must not allocate the moon)


class _File:
    __slots__ = ("data", "mtime", "mode")

    def __init__(self, mtime: float, mode: int = FILE_MODE):
        self.data = bytearray()
        self.mtime = mtime
        self.mode = mode


class _Dir:
    __slots__ = ("entries", "mtime", "mode")

    def __init__(self, mtime: float, mode: int = DIR_MODE):
        self.entries: dict[str, _File | _Dir] = {}
        self.mtime = mtime
        self.mode = mode


def _parts(path: str) -> list[str]:
    if not path.startswith("/") or "\x00" in path:
        raise VfsError(errno.EINVAL, path, "not a normalised absolute path")
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise VfsError(errno.EINVAL, path, "'.' and '..' are not allowed here")
    return parts


class RamMount(Mount):
    vfs = "ram"

    def __init__(self, *, read_only: bool = False, journal: Journal | None = None):
        self.read_only = read_only
        self.journal = journal
        self._root = _Dir(time.time())
        self._bytes = 0

    # ------------------------------------------------------------ lookups

    def _node(self, path: str) -> _File | _Dir:
        node: _File | _Dir = self._root
        for part in _parts(path):
            if not isinstance(node, _Dir):
                raise VfsError(errno.ENOTDIR, path)
            child = node.entries.get(part)
            if child is None:
                raise VfsError(errno.ENOENT, path)
            node = child
        return node

    def _parent(self, path: str) -> tuple[_Dir, str]:
        parts = _parts(path)
        if not parts:
            raise VfsError(errno.EBUSY, path, "the mount root cannot be replaced or removed")
        node: _File | _Dir = self._root
        for part in parts[:-1]:
            if not isinstance(node, _Dir):
                raise VfsError(errno.ENOTDIR, path)
            child = node.entries.get(part)
            if child is None:
                raise VfsError(errno.ENOENT, path)
            node = child
        if not isinstance(node, _Dir):
            raise VfsError(errno.ENOTDIR, path)
        return node, parts[-1]

    def _writable(self, path: str) -> None:
        if self.read_only:
            raise VfsError(errno.EROFS, path, "read-only mount")

    def _log(self, header: dict[str, Any], data: bytes = b"") -> None:
        if self.journal is not None:
            self.journal(header, data)

    @property
    def bytes_used(self) -> int:
        return self._bytes

    # ------------------------------------------------------------ reads

    def stat_sync(self, path: str) -> FileStat:
        node = self._node(path)
        if isinstance(node, _Dir):
            return FileStat("dir", len(node.entries), node.mtime, node.mode)
        return FileStat("file", len(node.data), node.mtime, node.mode)

    def read_sync(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        if offset < 0 or (length is not None and length < 0):
            raise VfsError(errno.EINVAL, path, "offset and length must not be negative")
        node = self._node(path)
        if isinstance(node, _Dir):
            raise VfsError(errno.EISDIR, path)
        end = len(node.data) if length is None else offset + length
        return bytes(node.data[offset:end])

    def readdir_sync(self, path: str) -> list[str]:
        node = self._node(path)
        if not isinstance(node, _Dir):
            raise VfsError(errno.ENOTDIR, path)
        return sorted(node.entries)

    # ------------------------------------------------------------ mutations (sync core)

    def write_sync(self, path: str, data: bytes, *, append: bool = False, mtime: float | None = None) -> None:
        self._writable(path)
        now = time.time() if mtime is None else mtime
        parent, name = self._parent(path)
        node = parent.entries.get(name)
        if isinstance(node, _Dir):
            raise VfsError(errno.EISDIR, path)
        if len(data) + (len(node.data) if append and node is not None else 0) > MAX_FILE_BYTES:
            raise VfsError(errno.EFBIG, path, f"a RAM file holds at most {MAX_FILE_BYTES} bytes")
        if node is None:
            node = _File(now)
            parent.entries[name] = node
            parent.mtime = now
        if not append:
            self._bytes -= len(node.data)
            node.data = bytearray(data)
        else:
            node.data += data
        self._bytes += len(data)
        node.mtime = now
        self._log({"op": "write", "p": path, "append": append, "t": now}, bytes(data))

    def mkdir_sync(self, path: str, *, parents: bool = False, exist_ok: bool = False,
                   mtime: float | None = None, mode: int = DIR_MODE) -> None:
        self._writable(path)
        now = time.time() if mtime is None else mtime
        parts = _parts(path)
        if not parts:
            if exist_ok or parents:
                return
            raise VfsError(errno.EEXIST, path)
        node: _File | _Dir = self._root
        for index, part in enumerate(parts):
            if not isinstance(node, _Dir):
                raise VfsError(errno.ENOTDIR, path)
            child = node.entries.get(part)
            last = index == len(parts) - 1
            if child is None:
                if not last and not parents:
                    raise VfsError(errno.ENOENT, path)
                child = _Dir(now, mode)
                node.entries[part] = child
                node.mtime = now
            elif last:
                if isinstance(child, _Dir) and (exist_ok or parents):
                    return
                raise VfsError(errno.EEXIST, path)
            node = child
        self._log({"op": "mkdir", "p": path, "parents": parents, "t": now, "mode": mode})

    def unlink_sync(self, path: str, *, mtime: float | None = None) -> None:
        self._writable(path)
        if not _parts(path):
            raise VfsError(errno.EISDIR, path)
        now = time.time() if mtime is None else mtime
        parent, name = self._parent(path)
        node = parent.entries.get(name)
        if node is None:
            raise VfsError(errno.ENOENT, path)
        if isinstance(node, _Dir):
            raise VfsError(errno.EISDIR, path)
        del parent.entries[name]
        parent.mtime = now
        self._bytes -= len(node.data)
        self._log({"op": "unlink", "p": path, "t": now})

    def rmdir_sync(self, path: str, *, mtime: float | None = None) -> None:
        self._writable(path)
        now = time.time() if mtime is None else mtime
        parent, name = self._parent(path)
        node = parent.entries.get(name)
        if node is None:
            raise VfsError(errno.ENOENT, path)
        if not isinstance(node, _Dir):
            raise VfsError(errno.ENOTDIR, path)
        if node.entries:
            raise VfsError(errno.ENOTEMPTY, path)
        del parent.entries[name]
        parent.mtime = now
        self._log({"op": "rmdir", "p": path, "t": now})

    def rename_sync(self, src: str, dst: str, *, mtime: float | None = None) -> None:
        self._writable(src)
        now = time.time() if mtime is None else mtime
        src_parent, src_name = self._parent(src)
        node = src_parent.entries.get(src_name)
        if node is None:
            raise VfsError(errno.ENOENT, src)
        if src == dst:
            return
        if dst.startswith(src.rstrip("/") + "/"):
            raise VfsError(errno.EINVAL, dst, "cannot move a directory inside itself")
        dst_parent, dst_name = self._parent(dst)
        existing = dst_parent.entries.get(dst_name)
        if existing is not None:
            if isinstance(node, _Dir) and not isinstance(existing, _Dir):
                raise VfsError(errno.ENOTDIR, dst)
            if not isinstance(node, _Dir) and isinstance(existing, _Dir):
                raise VfsError(errno.EISDIR, dst)
            if isinstance(existing, _Dir) and existing.entries:
                raise VfsError(errno.ENOTEMPTY, dst)
            if isinstance(existing, _File):
                self._bytes -= len(existing.data)
        del src_parent.entries[src_name]
        dst_parent.entries[dst_name] = node
        src_parent.mtime = dst_parent.mtime = now
        self._log({"op": "rename", "p": src, "to": dst, "t": now})

    def truncate_sync(self, path: str, size: int, *, mtime: float | None = None) -> None:
        self._writable(path)
        if size < 0:
            raise VfsError(errno.EINVAL, path, "size must not be negative")
        if size > MAX_FILE_BYTES:
            raise VfsError(errno.EFBIG, path, f"a RAM file holds at most {MAX_FILE_BYTES} bytes")
        now = time.time() if mtime is None else mtime
        node = self._node(path)
        if isinstance(node, _Dir):
            raise VfsError(errno.EISDIR, path)
        old = len(node.data)
        if size < old:
            del node.data[size:]
        else:
            node.data.extend(bytes(size - old))
        self._bytes += size - old
        node.mtime = now
        self._log({"op": "truncate", "p": path, "size": size, "t": now})

    def utime_sync(self, path: str, mtime: float) -> None:
        """Set a node's mtime (snapshot restore only; not journaled)."""
        self._node(path).mtime = mtime

    # ------------------------------------------------------------ the Mount interface

    async def stat(self, path: str) -> FileStat:
        return self.stat_sync(path)

    async def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        return self.read_sync(path, offset, length)

    async def write(self, path: str, data: bytes, *, append: bool = False) -> None:
        self.write_sync(path, data, append=append)

    async def readdir(self, path: str) -> list[str]:
        return self.readdir_sync(path)

    async def mkdir(self, path: str, *, parents: bool = False, exist_ok: bool = False) -> None:
        self.mkdir_sync(path, parents=parents, exist_ok=exist_ok)

    async def unlink(self, path: str) -> None:
        self.unlink_sync(path)

    async def rmdir(self, path: str) -> None:
        self.rmdir_sync(path)

    async def rename(self, src: str, dst: str) -> None:
        self.rename_sync(src, dst)

    async def truncate(self, path: str, size: int) -> None:
        self.truncate_sync(path, size)

    # ------------------------------------------------------------ persistence support

    def apply(self, header: dict[str, Any], data: bytes) -> None:
        """Replay one journal or snapshot record, without journaling it again.
        Works on read-only mounts too (restoring is not a user write)."""
        saved_journal, saved_ro = self.journal, self.read_only
        self.journal, self.read_only = None, False
        try:
            op, path, mtime = header["op"], header["p"], header.get("t")
            if op == "write":
                self.write_sync(path, data, append=bool(header.get("append")), mtime=mtime)
            elif op == "mkdir":
                self.mkdir_sync(path, parents=bool(header.get("parents")), exist_ok=True, mtime=mtime,
                                mode=int(header.get("mode", DIR_MODE)))
            elif op == "unlink":
                self.unlink_sync(path, mtime=mtime)
            elif op == "rmdir":
                self.rmdir_sync(path, mtime=mtime)
            elif op == "rename":
                self.rename_sync(path, header["to"], mtime=mtime)
            elif op == "truncate":
                self.truncate_sync(path, int(header["size"]), mtime=mtime)
            elif op == "utime":
                self.utime_sync(path, float(mtime))
            else:
                raise ValueError(f"unknown record op {op!r}")
        finally:
            self.journal, self.read_only = saved_journal, saved_ro

    def dump(self) -> Iterator[tuple[dict[str, Any], bytes]]:
        """Records that rebuild this tree from empty (a consistent copy: call it
        without awaiting in between, the data is copied as it is yielded —
        collect it with list() in one go)."""
        dirs: list[tuple[str, _Dir]] = []

        def walk(prefix: str, node: _Dir) -> Iterator[tuple[dict[str, Any], bytes]]:
            for name in sorted(node.entries):
                child = node.entries[name]
                path = f"{prefix}/{name}" if prefix != "/" else f"/{name}"
                if isinstance(child, _Dir):
                    dirs.append((path, child))
                    yield {"op": "mkdir", "p": path, "t": child.mtime, "mode": child.mode}, b""
                    yield from walk(path, child)
                else:
                    yield {"op": "write", "p": path, "append": False, "t": child.mtime}, bytes(child.data)

        yield from walk("/", self._root)
        for path, node in dirs:
            yield {"op": "utime", "p": path, "t": node.mtime}, b""
        yield {"op": "utime", "p": "/", "t": self._root.mtime}, b""
