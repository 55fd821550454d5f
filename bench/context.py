"""What every scenario shares: options, where files go, which cores, the tables, cleanup."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from report import Table
from servers import Server


@dataclass
class Context:
    args: argparse.Namespace
    run_dir: Path                  # logs and JSON results, under bench/.scratch/
    server_cpu: int | None         # taskset core for servers (None: not pinned)
    client_cpu: int | None         # taskset core for wrk
    tables: list[Table] = field(default_factory=list)
    stack: ExitStack = field(default_factory=ExitStack)
    _tmp_root: Path | None = None

    @property
    def duration(self) -> float:
        return self.args.duration

    @property
    def rounds(self) -> int:
        return self.args.rounds

    @property
    def quick(self) -> bool:
        return self.args.quick

    @property
    def log_dir(self) -> Path:
        folder = self.run_dir / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def table(self, title: str, columns: list[str]) -> Table:
        table = Table(title, columns)
        self.tables.append(table)
        return table

    def temp_home(self, label: str) -> Path:
        """A fresh HOME for one server, in a short /tmp path (AF_UNIX paths are short)."""
        if self._tmp_root is None:
            self._tmp_root = Path(tempfile.mkdtemp(prefix="mbench-"))
            self.stack.callback(shutil.rmtree, self._tmp_root, True)
        return Path(tempfile.mkdtemp(prefix=f"{label}-", dir=self._tmp_root))

    def keep(self, server: Server) -> Server:
        """Stop ``server`` when the bench ends (or fails)."""
        self.stack.callback(server.stop)
        return server

    def close(self) -> None:
        self.stack.close()
