"""The interface every mount backend implements, and the errors they raise.

Paths given to a Mount are *mount-relative*, absolute POSIX paths already
normalised by the engine: "/" is the mount's root, no "." or ".." components,
no empty components, no NUL bytes. A backend still defends itself (the disk
backend re-checks confinement), but it never has to parse workspace paths.

All methods are coroutines so that backends doing I/O (disk in a thread,
object stores, Redis) fit the same shape as the in-memory one.
"""

from __future__ import annotations

import errno as errno_codes
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass


class VfsError(OSError):
    """An errno-carrying failure of a VFS call. ``path`` is the workspace path
    as the caller gave it (never a host path)."""

    def __init__(self, code: int, path: str, detail: str | None = None):
        super().__init__(code, detail or os.strerror(code), path)
        self.code = code
        self.path = path
        self.detail = detail or os.strerror(code)

    @property
    def errno_name(self) -> str:
        return errno_codes.errorcode.get(self.code, str(self.code))

    def __str__(self) -> str:
        return f"{self.path}: {self.detail}"


@dataclass(frozen=True, slots=True)
class FileStat:
    type: str          # "file" | "dir" | "symlink"
    size: int
    mtime: float       # seconds since the epoch
    mode: int          # permission bits, e.g. 0o644

    @property
    def is_dir(self) -> bool:
        return self.type == "dir"

    @property
    def is_file(self) -> bool:
        return self.type == "file"


class Mount(ABC):
    """One backend instance serving one mount prefix of one workspace."""

    vfs: str = "?"            # the workspace.yaml `vfs:` name
    read_only: bool = False

    @abstractmethod
    async def stat(self, path: str) -> FileStat: ...

    @abstractmethod
    async def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes: ...

    @abstractmethod
    async def write(self, path: str, data: bytes, *, append: bool = False) -> None:
        """Create or replace (or, with append, extend) a regular file."""

    @abstractmethod
    async def readdir(self, path: str) -> list[str]:
        """Entry names (not paths), sorted."""

    @abstractmethod
    async def mkdir(self, path: str, *, parents: bool = False, exist_ok: bool = False) -> None: ...

    @abstractmethod
    async def unlink(self, path: str) -> None: ...

    @abstractmethod
    async def rmdir(self, path: str) -> None: ...

    @abstractmethod
    async def rename(self, src: str, dst: str) -> None:
        """Within this mount only; the engine answers EXDEV across mounts."""

    @abstractmethod
    async def truncate(self, path: str, size: int) -> None: ...

    async def exists(self, path: str) -> bool:
        try:
            await self.stat(path)
        except VfsError as exc:
            if exc.code in (errno_codes.ENOENT, errno_codes.ENOTDIR):
                return False
            raise
        return True
