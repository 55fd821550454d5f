"""WorkspaceFS: one workspace's mounts seen as a single filesystem.

Callers (the VFS API, the shell) give absolute workspace paths. WorkspaceFS
normalises them (see ``paths.normalize``: NUL → EINVAL, relative → EINVAL,
long names/paths → ENAMETOOLONG, ``..`` clamped at ``/``), routes each path to
the mount with the longest matching prefix, shows mount points as directories
in their parents (readdir/stat), refuses writes on read-only mounts or a
read-only workspace with EROFS and renames across mounts with EXDEV.
Errors are ``VfsError`` carrying the *workspace* path.

Durability: mutations are applied in memory (ram) or on the host (disk) at
once; for ram mounts they are also appended to the workspace's log. Call
``await fs.commit()`` (the same as ``await workspace.commit()``) after a batch
of mutations — e.g. once at the end of a shell line, before answering — and
everything mutated so far is durable (fsync'd, group-committed with other
concurrent callers) when it returns. Mutating calls never commit by themselves.
"""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable, Mapping

from mirage.workspace import paths
from mirage.workspace.vfs.base import FileStat, Mount, VfsError

Committer = Callable[[], Awaitable[None]]


async def _no_commit() -> None:
    return None


class WorkspaceFS:
    def __init__(self, mounts: Mapping[str, Mount], *, read_only: bool = False,
                 committer: Committer | None = None):
        self._mounts: dict[str, Mount] = {}
        for prefix, mount in mounts.items():
            canonical = paths.normalize(prefix)
            if canonical != prefix:
                raise ValueError(f"mount prefix {prefix!r} is not normalised (expected {canonical!r})")
            self._mounts[prefix] = mount
        # longest prefix first, so the first match wins
        self._order = sorted(self._mounts, key=len, reverse=True)
        self.read_only = read_only
        self._committer = committer or _no_commit

    @classmethod
    def for_testing(cls, *, read_only: bool = False, extra: Mapping[str, Mount] | None = None) -> WorkspaceFS:
        """A RAM-only filesystem (ram at ``/`` plus ``extra`` mounts), no persistence."""
        from mirage.workspace.vfs.ram import RamMount

        mounts: dict[str, Mount] = {"/": RamMount()}
        mounts.update(extra or {})
        return cls(mounts, read_only=read_only)

    # ------------------------------------------------------------ routing

    @property
    def mounts(self) -> Mapping[str, Mount]:
        return dict(self._mounts)

    def resolve(self, path: str) -> tuple[str, Mount | None, str]:
        """(normalised path, mount or None, mount-relative path). None means the
        path lies outside every mount (it may still be a synthetic ancestor dir)."""
        norm = paths.normalize(path)
        for prefix in self._order:
            if paths.is_within(norm, prefix):
                return norm, self._mounts[prefix], paths.relative_to(norm, prefix)
        return norm, None, norm

    def _prefix_of(self, mount: Mount) -> str:
        for prefix, candidate in self._mounts.items():
            if candidate is mount:
                return prefix
        return "/"

    def _children_mount_points(self, norm: str) -> set[str]:
        """Names of mount points (or their ancestors) directly under ``norm``."""
        names = set()
        for prefix in self._mounts:
            if prefix != norm and paths.is_within(prefix, norm):
                rest = prefix[len(norm):].lstrip("/") if norm != "/" else prefix[1:]
                names.add(rest.split("/", 1)[0])
        return names

    def _is_mount_point_or_ancestor(self, norm: str) -> bool:
        return any(paths.is_within(prefix, norm) for prefix in self._mounts)

    def _is_mount_point(self, norm: str) -> bool:
        return norm in self._mounts

    def _mapped(self, exc: VfsError, norm: str, mount: Mount | None) -> VfsError:
        """Re-label a backend error with the workspace path."""
        prefix = self._prefix_of(mount) if mount is not None else "/"
        shown = paths.join(prefix, exc.path) if exc.path.startswith("/") else norm
        return VfsError(exc.code, shown, exc.detail)

    def _check_writable(self, norm: str, mount: Mount | None) -> Mount:
        if self.read_only:
            raise VfsError(errno.EROFS, norm, "the workspace is read-only")
        if mount is None:
            raise VfsError(errno.EROFS, norm, "not inside any mount")
        if mount.read_only:
            raise VfsError(errno.EROFS, norm, "read-only mount")
        return mount

    # ------------------------------------------------------------ reads

    async def stat(self, path: str) -> FileStat:
        norm, mount, rel = self.resolve(path)
        if mount is not None:
            try:
                return await mount.stat(rel)
            except VfsError as exc:
                if exc.code != errno.ENOENT or not self._is_mount_point_or_ancestor(norm):
                    raise self._mapped(exc, norm, mount) from None
        elif not self._is_mount_point_or_ancestor(norm):
            raise VfsError(errno.ENOENT, norm)
        # a mount point's ancestor that no mount holds: a synthetic directory
        return FileStat("dir", len(self._children_mount_points(norm)), 0.0, 0o555)

    async def exists(self, path: str) -> bool:
        try:
            await self.stat(path)
        except VfsError as exc:
            if exc.code in (errno.ENOENT, errno.ENOTDIR):
                return False
            raise
        return True

    async def read(self, path: str, offset: int = 0, length: int | None = None, *,
                   max_bytes: int | None = None) -> bytes:
        """``max_bytes``: refuse (EFBIG) rather than load more than this into memory — a
        multi-GB file in a disk mount must not take the daemon's memory down."""
        norm, mount, rel = self.resolve(path)
        if mount is None:
            if self._is_mount_point_or_ancestor(norm):
                raise VfsError(errno.EISDIR, norm)
            raise VfsError(errno.ENOENT, norm)
        try:
            if max_bytes is not None and (length is None or length > max_bytes):
                size = (await mount.stat(rel)).size
                wanted = max(0, size - offset) if length is None else min(length, max(0, size - offset))
                if wanted > max_bytes:
                    raise VfsError(errno.EFBIG, norm, f"reading {wanted} bytes at once is over the "
                                                      f"{max_bytes}-byte limit; read it in parts "
                                                      f"(offset/size)")
            return await mount.read(rel, offset, length)
        except VfsError as exc:
            raise self._mapped(exc, norm, mount) from None

    async def readdir(self, path: str) -> list[str]:
        norm, mount, rel = self.resolve(path)
        names: set[str] = set()
        found = False
        if mount is not None:
            try:
                names.update(await mount.readdir(rel))
                found = True
            except VfsError as exc:
                if exc.code != errno.ENOENT or not self._is_mount_point_or_ancestor(norm):
                    raise self._mapped(exc, norm, mount) from None
        extra = self._children_mount_points(norm)
        if not found and not extra and not self._is_mount_point(norm):
            raise VfsError(errno.ENOENT, norm)
        names.update(extra)
        return sorted(names)

    # ------------------------------------------------------------ mutations

    async def write(self, path: str, data: bytes, *, append: bool = False) -> None:
        norm, mount, rel = self.resolve(path)
        mount = self._check_writable(norm, mount)
        if self._is_mount_point(norm) or (rel == "/"):
            raise VfsError(errno.EISDIR, norm)
        if self._is_mount_point_or_ancestor(norm):
            raise VfsError(errno.EISDIR, norm)
        try:
            await mount.write(rel, bytes(data), append=append)
        except VfsError as exc:
            raise self._mapped(exc, norm, mount) from None

    async def append(self, path: str, data: bytes) -> None:
        await self.write(path, data, append=True)

    async def mkdir(self, path: str, *, parents: bool = False, exist_ok: bool = False) -> None:
        norm, mount, rel = self.resolve(path)
        if self._is_mount_point_or_ancestor(norm):
            # mount points and their ancestors always exist as directories
            if exist_ok or parents:
                return
            raise VfsError(errno.EEXIST, norm)
        mount = self._check_writable(norm, mount)
        try:
            await mount.mkdir(rel, parents=parents, exist_ok=exist_ok)
        except VfsError as exc:
            raise self._mapped(exc, norm, mount) from None

    async def unlink(self, path: str) -> None:
        norm, mount, rel = self.resolve(path)
        if self._is_mount_point_or_ancestor(norm) and not self.read_only:
            raise VfsError(errno.EISDIR, norm)
        mount = self._check_writable(norm, mount)
        try:
            await mount.unlink(rel)
        except VfsError as exc:
            raise self._mapped(exc, norm, mount) from None

    async def rmdir(self, path: str) -> None:
        norm, mount, rel = self.resolve(path)
        if self._is_mount_point_or_ancestor(norm) and not self.read_only:
            raise VfsError(errno.EBUSY, norm, "a mount point (or a folder holding one) cannot be removed")
        mount = self._check_writable(norm, mount)
        try:
            await mount.rmdir(rel)
        except VfsError as exc:
            raise self._mapped(exc, norm, mount) from None

    async def rename(self, src: str, dst: str) -> None:
        src_norm, src_mount, src_rel = self.resolve(src)
        dst_norm, dst_mount, dst_rel = self.resolve(dst)
        src_mount = self._check_writable(src_norm, src_mount)
        dst_mount = self._check_writable(dst_norm, dst_mount)
        for norm in (src_norm, dst_norm):
            if self._is_mount_point_or_ancestor(norm):
                raise VfsError(errno.EBUSY, norm, "a mount point (or a folder holding one) cannot be renamed")
        if src_mount is not dst_mount:
            raise VfsError(errno.EXDEV, dst_norm, "rename across mounts")
        if any(paths.is_within(prefix, src_norm) for prefix in self._mounts if prefix != "/"):
            raise VfsError(errno.EBUSY, src_norm, "holds a mount point")
        try:
            await src_mount.rename(src_rel, dst_rel)
        except VfsError as exc:
            raise self._mapped(exc, src_norm, src_mount) from None

    async def truncate(self, path: str, size: int) -> None:
        norm, mount, rel = self.resolve(path)
        if self._is_mount_point_or_ancestor(norm) and not self.read_only:
            raise VfsError(errno.EISDIR, norm)
        mount = self._check_writable(norm, mount)
        try:
            await mount.truncate(rel, size)
        except VfsError as exc:
            raise self._mapped(exc, norm, mount) from None

    # ------------------------------------------------------------ durability

    async def commit(self) -> None:
        """Make every mutation made so far durable (see the module docstring)."""
        await self._committer()
