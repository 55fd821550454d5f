"""Byte streams between commands: pipes with bounded queues, captures with a cap,
and sinks that write to the workspace filesystem.

A pipe holds at most a few chunks, so a writer that runs ahead of its reader
waits; when the reader goes away the writer gets :class:`PipeClosed` and stops
(``yes | head -1`` ends).
"""

from __future__ import annotations

import asyncio

from mirage.workspace.shell.errors import InputLimitExceeded, OutputLimitExceeded, PipeClosed

PIPE_CHUNKS = 8
FILE_FLUSH_BYTES = 1 << 16


class InStream:
    """Buffered reader over a source of chunks; subclasses provide ``_next_chunk``."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._eof = False

    async def _next_chunk(self) -> bytes:
        return b""

    async def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = await self._next_chunk()
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    async def read(self, n: int = 1 << 16) -> bytes:
        if not self._buf:
            await self._fill()
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    async def readline(self) -> bytes:
        """One line with its newline (the last line may lack one); b"" at EOF."""
        start = 0
        while True:
            idx = self._buf.find(b"\n", start)
            if idx >= 0:
                line = bytes(self._buf[: idx + 1])
                del self._buf[: idx + 1]
                return line
            start = len(self._buf)
            if not await self._fill():
                line = bytes(self._buf)
                self._buf.clear()
                return line

    async def read_all(self, limit: int | None = None) -> bytes:
        """Everything up to EOF; beyond ``limit`` bytes the line is stopped (memory guard)."""
        while await self._fill():
            if limit is not None and len(self._buf) > limit:
                raise InputLimitExceeded(f"input held in memory exceeded {limit} bytes")
        data = bytes(self._buf)
        self._buf.clear()
        return data

    async def lines(self):
        while True:
            line = await self.readline()
            if not line:
                return
            yield line

    def close(self) -> None:
        """The reader is done (nothing more will be read)."""


class BytesIn(InStream):
    def __init__(self, data: bytes = b"") -> None:
        super().__init__()
        self._buf += data
        self._eof = True


class OutStream:
    async def write(self, data: bytes) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """No more writes; flush what is buffered."""


class NullOut(OutStream):
    async def write(self, data: bytes) -> None:
        return None


class Pipe:
    """A one-way pipe: ``writer`` (an OutStream) feeding ``reader`` (an InStream)."""

    def __init__(self, chunks: int = PIPE_CHUNKS) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=chunks)
        self.reader_closed = False
        self.writer = _PipeWriter(self)
        self.reader = _PipeReader(self)


class _PipeWriter(OutStream):
    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe
        self.closed = False

    async def write(self, data: bytes) -> None:
        if not data:
            return
        if self.pipe.reader_closed:
            raise PipeClosed()
        await self.pipe.queue.put(bytes(data))
        if self.pipe.reader_closed:
            raise PipeClosed()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.pipe.reader_closed:
            return
        await self.pipe.queue.put(None)


class _PipeReader(InStream):
    def __init__(self, pipe: Pipe) -> None:
        super().__init__()
        self.pipe = pipe

    async def _next_chunk(self) -> bytes:
        if self.pipe.reader_closed:
            return b""
        chunk = await self.pipe.queue.get()
        return chunk or b""

    def close(self) -> None:
        self.pipe.reader_closed = True
        queue = self.pipe.queue
        while not queue.empty():   # unblock a writer waiting on a full queue
            queue.get_nowait()


class OutputBudget:
    """Bytes a line may still produce (stdout + stderr + captures together)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise OutputLimitExceeded(f"output exceeded the limit of {self.limit} bytes")


class Capture(OutStream):
    """Collects bytes in memory, charging them to a budget."""

    def __init__(self, budget: OutputBudget) -> None:
        self.budget = budget
        self.data = bytearray()

    async def write(self, data: bytes) -> None:
        self.budget.spend(len(data))
        self.data += data


class FileOut(OutStream):
    """Buffered writes to a workspace file (created/truncated when opened)."""

    def __init__(self, fs, path: str, budget: OutputBudget | None = None) -> None:
        self.fs = fs
        self.path = path
        self.budget = budget
        self.buf = bytearray()

    @classmethod
    async def open(cls, fs, path: str, *, append: bool, budget: OutputBudget | None = None):
        await fs.write(path, b"", append=append)
        return cls(fs, path, budget)

    async def write(self, data: bytes) -> None:
        if self.budget is not None:
            self.budget.spend(len(data))
        self.buf += data
        if len(self.buf) >= FILE_FLUSH_BYTES:
            await self.flush()

    async def flush(self) -> None:
        if self.buf:
            data = bytes(self.buf)
            self.buf.clear()
            await self.fs.write(self.path, data, append=True)

    async def close(self) -> None:
        await self.flush()
