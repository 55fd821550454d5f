"""The append-only log of one workspace, with group commit.

``append`` is synchronous (called from inside a RAM mutation, so the log order
is the mutation order). ``commit`` makes everything appended so far durable:
one caller at a time writes *all* pending records and fsyncs once, so many
concurrent requests share one fsync (group commit).

Policies: ``always`` — commit writes and fsyncs before returning;
``everysec`` — commit writes to the kernel (which survives a SIGKILL of the
daemon) and a background tick fsyncs once a second (a power loss may cost up
to a second of acknowledged writes).

The file is opened for each flush and closed after it, so ten thousand idle
workspaces hold no file descriptors.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

log = logging.getLogger("mirage.state")


class StateWriteError(Exception):
    """The log could not be written; the write was not made durable."""


def append_to_file(path: Path, data: bytes, *, sync: bool) -> None:
    """Append ``data`` to ``path`` (created 0600 if missing), then fdatasync if asked."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if sync:
            os.fdatasync(fd)
    finally:
        os.close(fd)


class LogWriter:
    def __init__(self, path: Path, policy: str):
        self.policy = policy
        self.path = path
        try:
            self._size = path.stat().st_size
        except FileNotFoundError:
            append_to_file(path, b"", sync=False)
            self._size = 0
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
        """Caller holds io_lock. On failure the records stay pending (a later flush retries)."""
        data = bytes(self._pending)
        self._pending.clear()
        upto = self._seq
        path, size = self.path, self._size
        try:
            await asyncio.to_thread(append_to_file, path, data, sync=sync)
        except OSError as exc:
            self._failed = f"the workspace log could not be written: {exc.strerror or exc}"
            log.error("state log write failed path=%s error=%s", path, exc.strerror or exc)
            try:          # cut a partial record off, so the retry appends whole records
                os.truncate(path, size)
            except OSError:
                pass
            self._pending[:0] = data
            return
        self._failed = None
        self._size += len(data)
        self._written = upto
        if sync:
            self._synced = upto

    def take_pending(self) -> tuple[bytes, int]:
        """Detach pending bytes (rotation). Caller holds io_lock and writes them itself."""
        data = bytes(self._pending)
        self._pending.clear()
        return data, self._seq

    def requeue(self, data: bytes) -> None:
        """Put detached bytes back in front of what is pending (a failed rotation)."""
        self._pending[:0] = data

    def switch_to(self, path: Path) -> None:
        """Point future flushes at a new (empty) log file."""
        self.path, self._size = path, 0

    def mark_durable(self, upto: int) -> None:
        self._written = max(self._written, upto)
        self._synced = max(self._synced, upto)
