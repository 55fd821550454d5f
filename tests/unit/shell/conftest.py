"""Helpers for shell tests: run lines over a real RAM WorkspaceFS."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from mirage.workspace.shell.runner import Limits, run_line
from mirage.workspace.testing import ram_workspace_fs

FILES = {
    "/a.txt": b"hello\nworld\nfoo bar\n",
    "/nums.txt": b"3\n1\n2\n",
    "/log/app.log": b"INFO start\nERROR disk\nINFO done\n",
    "/.hidden": b"h\n",
}


@dataclass
class Out:
    code: int
    out: str
    err: str


class Shell:
    """A RAM workspace with FILES; ``run`` executes a line and returns (code, stdout, stderr)."""

    def __init__(self, files=None, limits: Limits | None = None, fs=None):
        self.fs = fs or ram_workspace_fs()
        self.limits = limits or Limits(timeout_seconds=10, output_limit_bytes=1 << 20)
        asyncio.run(self._populate(FILES if files is None else files))

    async def _populate(self, files) -> None:
        for path, data in files.items():
            parent = path.rsplit("/", 1)[0]
            if parent:
                await self.fs.mkdir(parent, parents=True, exist_ok=True)
            await self.fs.write(path, data)

    def run(self, line: str, **kwargs) -> Out:
        result = asyncio.run(run_line(self.fs, line, limits=kwargs.pop("limits", self.limits), **kwargs))
        return Out(result.exit_code, result.stdout.decode(), result.stderr.decode())

    def read(self, path: str) -> bytes:
        return asyncio.run(self.fs.read(path))

    def exists(self, path: str) -> bool:
        return asyncio.run(self.fs.exists(path))


@pytest.fixture
def sh() -> Shell:
    return Shell()
