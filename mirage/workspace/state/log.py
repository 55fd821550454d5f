"""The append-only log of one workspace, with group commit.

``append`` is synchronous (called from inside a RAM mutation, so the log order
is the mutation order). ``commit`` makes everything appended so far durable:
one caller at a time writes *all* pending records and fsyncs once, so many
concurrent requests share one fsync (group commit).

Policies: ``always`` — commit writes and fsyncs before returning;
``everysec`` — commit writes to the kernel (which survives a SIGKILL of the
daemon) and a background tick fsyncs once a second (a power loss may cost up
to a second of acknowledged writes).
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

log = logging.getLogger("mirage.state")


class StateWriteError(Exception):
    """The log could not be written; the write was not made durable."""


class LogWriter:
    def __init__(self, path: Path, policy: str):
        self.policy = policy
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._size = os.fstat(self._fd).st_size
        self._pending = bytearray()
        self._seq = 0            # records appended
        self._written = 0        # records handed to the kernel
        self._synced = 0         # records fsync'd
        self.io_lock = asyncio.Lock()
        self._failed: str | None = None

    @property
    def size(self) -> int:
        """Bytes in the log file plus pending bytes."""
        return self._size + len(self._pending)

    @property
    def dirty(self) -> bool:
        return self._synced < self._seq

    def append(self, frame: bytes) -> None:
        self._pending += frame
        self._seq += 1

    def _durable(self, target: int) -> bool:
        return (self._synced if self.policy == "always" else self._written) >= target

    async def commit(self) -> None:
        target = self._seq
        if self._durable(target):
            return
        async with self.io_lock:
            if self._durable(target):
                return
            await self.flush(sync=self.policy == "always")
        if not self._durable(target):
            raise StateWriteError(self._failed or "the workspace log could not be written")

    async def sync(self) -> None:
        """Write and fsync everything pending (the everysec tick, shutdown)."""
        if not self.dirty:
            return
        async with self.io_lock:
            await self.flush(sync=True)

    async def flush(self, *, sync: bool) -> None:
        """Caller holds io_lock."""
        data = bytes(self._pending)
        self._pending.clear()
        upto = self._seq
        fd = self._fd

        def work() -> None:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if sync:
                os.fdatasync(fd)

        try:
            await asyncio.to_thread(work)
        except OSError as exc:
            self._failed = f"the workspace log could not be written: {exc.strerror or exc}"
            log.error("state log write failed path=%s error=%s", self.path, exc.strerror or exc)
            # keep the records so a later flush retries; the file may hold a torn
            # tail, which restore drops, so re-sending whole records is safe only
            # after truncating it back
            try:
                os.ftruncate(fd, self._size)
            except OSError:
                pass
            self._pending[:0] = data
            return
        self._size += len(data)
        self._written = upto
        if sync:
            self._synced = upto

    def take_pending(self) -> tuple[bytes, int]:
        """Detach pending bytes (rotation). Caller holds io_lock and writes them itself."""
        data = bytes(self._pending)
        self._pending.clear()
        return data, self._seq

    def swap_file(self, path: Path, fd: int) -> int:
        """Point future flushes at a new file; returns the old fd (caller closes it)."""
        old = self._fd
        self._fd, self.path, self._size = fd, path, os.fstat(fd).st_size
        return old

    def mark_durable(self, upto: int) -> None:
        self._written = max(self._written, upto)
        self._synced = max(self._synced, upto)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
