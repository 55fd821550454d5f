"""The ``disk`` backend: a host folder, confined to its root.

Every call walks the path one component at a time with ``openat`` semantics
(``os.open(name, dir_fd=parent)``) and ``O_NOFOLLOW`` on every component, so:
no ``..`` (refused before any I/O), no absolute escape (paths are relative to
the root's fd), and no symlink is ever followed — a symlink anywhere in the
path answers ELOOP (``stat`` shows it as type ``symlink``). That is stricter
than "no symlink leading out", and fail-closed against races: a component
swapped for a symlink between two calls is still never followed.

FIFOs and devices are refused (opened with O_NONBLOCK, then checked to be
regular files) so a call can never block on one. Blocking I/O runs in a
worker thread; writes to one path are serialised so concurrent replaces and
appends never interleave.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat as stat_mod
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from mirage.workspace.vfs.base import FileStat, Mount, VfsError

T = TypeVar("T")

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 20


def _parts(path: str) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/") or "\x00" in path:
        raise VfsError(errno.EINVAL, str(path), "not a normalised absolute path")
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise VfsError(errno.EINVAL, path, "'.' and '..' are not allowed")
    return parts


def _type_of(mode: int) -> str:
    if stat_mod.S_ISDIR(mode):
        return "dir"
    if stat_mod.S_ISLNK(mode):
        return "symlink"
    if stat_mod.S_ISREG(mode):
        return "file"
    return "special"


class DiskMount(Mount):
    vfs = "disk"

    def __init__(self, root: str, *, read_only: bool = False):
        self.root = os.path.realpath(root)
        self.read_only = read_only
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}

    # ------------------------------------------------------------ confinement

    def _open_root(self, path: str) -> int:
        try:
            return os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise VfsError(exc.errno or errno.EIO, path, "the mount's host folder is not available") from None

    def _walk_parent(self, path: str, *, create_parents: bool = False) -> tuple[int, str]:
        """Open the parent directory of ``path`` inside the root. Returns (fd, last name);
        the name is '' for the root itself (fd is then the root). Caller closes fd."""
        parts = _parts(path)
        fd = self._open_root(path)
        try:
            for part in parts[:-1]:
                try:
                    next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create_parents:
                        raise
                    try:
                        os.mkdir(part, 0o755, dir_fd=fd)
                    except FileExistsError:
                        pass
                    next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = next_fd
        except OSError as exc:
            os.close(fd)
            raise self._error(exc, path) from None
        return fd, (parts[-1] if parts else "")

    def _error(self, exc: OSError, path: str) -> VfsError:
        code = exc.errno or errno.EIO
        if code == errno.ELOOP:
            return VfsError(errno.ELOOP, path, "symbolic links are not followed on disk mounts")
        if code == errno.ENOTDIR:
            # O_DIRECTORY|O_NOFOLLOW on a symlink to a dir answers ENOTDIR; say what it is
            return VfsError(errno.ENOTDIR, path)
        return VfsError(code, path)

    def _with_parent(self, path: str, action: Callable[[int, str], T], *, create_parents: bool = False) -> T:
        fd, name = self._walk_parent(path, create_parents=create_parents)
        try:
            return action(fd, name)
        except VfsError:
            raise
        except OSError as exc:
            raise self._error(exc, path) from None
        finally:
            os.close(fd)

    def _writable(self, path: str) -> None:
        if self.read_only:
            raise VfsError(errno.EROFS, path, "read-only mount")

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    @asynccontextmanager
    async def _path_lock(self, path: str):
        lock = self._locks.get(path)
        if lock is None:
            lock = self._locks[path] = asyncio.Lock()
        self._lock_users[path] = self._lock_users.get(path, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._lock_users[path] -= 1
            if not self._lock_users[path]:
                del self._lock_users[path]
                del self._locks[path]

    def _open_regular(self, fd: int, name: str, flags: int, path: str, mode: int = 0o644) -> int:
        if not name:
            raise VfsError(errno.EISDIR, path)
        file_fd = os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode, dir_fd=fd)
        try:
            st = os.fstat(file_fd)
            if stat_mod.S_ISDIR(st.st_mode):
                raise VfsError(errno.EISDIR, path)
            if not stat_mod.S_ISREG(st.st_mode):
                raise VfsError(errno.EINVAL, path, "not a regular file")
            os.set_blocking(file_fd, True)
        except BaseException:
            os.close(file_fd)
            raise
        return file_fd

    # ------------------------------------------------------------ reads

    async def stat(self, path: str) -> FileStat:
        def action(fd: int, name: str) -> FileStat:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False) if name else os.fstat(fd)
            return FileStat(_type_of(st.st_mode), st.st_size, st.st_mtime, stat_mod.S_IMODE(st.st_mode))

        return await self._run(lambda: self._with_parent(path, action))

    async def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        if offset < 0 or (length is not None and length < 0):
            raise VfsError(errno.EINVAL, path, "offset and length must not be negative")

        def action(fd: int, name: str) -> bytes:
            file_fd = self._open_regular(fd, name, os.O_RDONLY, path)
            try:
                chunks, position = [], offset
                remaining = length
                while remaining is None or remaining > 0:
                    want = _CHUNK if remaining is None else min(_CHUNK, remaining)
                    chunk = os.pread(file_fd, want, position)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    position += len(chunk)
                    if remaining is not None:
                        remaining -= len(chunk)
                return b"".join(chunks)
            finally:
                os.close(file_fd)

        return await self._run(lambda: self._with_parent(path, action))

    async def readdir(self, path: str) -> list[str]:
        def action(fd: int, name: str) -> list[str]:
            dir_fd = os.open(name, _DIR_FLAGS, dir_fd=fd) if name else os.dup(fd)
            try:
                return sorted(os.listdir(dir_fd))
            finally:
                os.close(dir_fd)

        return await self._run(lambda: self._with_parent(path, action))

    # ------------------------------------------------------------ mutations

    async def write(self, path: str, data: bytes, *, append: bool = False) -> None:
        self._writable(path)
        data = bytes(data)

        def action(fd: int, name: str) -> None:
            flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
            file_fd = self._open_regular(fd, name, flags, path)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(file_fd, view)
                    view = view[written:]
            finally:
                os.close(file_fd)

        async with self._path_lock(path):
            await self._run(lambda: self._with_parent(path, action))

    async def mkdir(self, path: str, *, parents: bool = False, exist_ok: bool = False) -> None:
        self._writable(path)

        def action(fd: int, name: str) -> None:
            if not name:
                if exist_ok or parents:
                    return
                raise VfsError(errno.EEXIST, path)
            try:
                os.mkdir(name, 0o755, dir_fd=fd)
            except FileExistsError:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if not ((exist_ok or parents) and stat_mod.S_ISDIR(st.st_mode)):
                    raise VfsError(errno.EEXIST, path) from None

        await self._run(lambda: self._with_parent(path, action, create_parents=parents))

    async def unlink(self, path: str) -> None:
        self._writable(path)

        def action(fd: int, name: str) -> None:
            if not name:
                raise VfsError(errno.EISDIR, path)
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat_mod.S_ISDIR(st.st_mode):
                raise VfsError(errno.EISDIR, path)
            os.unlink(name, dir_fd=fd)

        await self._run(lambda: self._with_parent(path, action))

    async def rmdir(self, path: str) -> None:
        self._writable(path)

        def action(fd: int, name: str) -> None:
            if not name:
                raise VfsError(errno.EBUSY, path, "the mount root cannot be removed")
            os.rmdir(name, dir_fd=fd)

        await self._run(lambda: self._with_parent(path, action))

    async def rename(self, src: str, dst: str) -> None:
        self._writable(src)
        if dst.startswith(src.rstrip("/") + "/"):
            raise VfsError(errno.EINVAL, dst, "cannot move a directory inside itself")

        def work() -> None:
            src_fd, src_name = self._walk_parent(src)
            try:
                dst_fd, dst_name = self._walk_parent(dst)
                try:
                    if not src_name or not dst_name:
                        raise VfsError(errno.EBUSY, src if not src_name else dst, "the mount root")
                    try:
                        os.rename(src_name, dst_name, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
                    except OSError as exc:
                        raise self._error(exc, src if exc.errno == errno.ENOENT else dst) from None
                finally:
                    os.close(dst_fd)
            finally:
                os.close(src_fd)

        await self._run(work)

    async def truncate(self, path: str, size: int) -> None:
        self._writable(path)
        if size < 0:
            raise VfsError(errno.EINVAL, path, "size must not be negative")

        def action(fd: int, name: str) -> None:
            file_fd = self._open_regular(fd, name, os.O_WRONLY, path)
            try:
                os.ftruncate(file_fd, size)
            finally:
                os.close(file_fd)

        async with self._path_lock(path):
            await self._run(lambda: self._with_parent(path, action))
