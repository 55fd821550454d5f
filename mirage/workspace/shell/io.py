"""The three standard streams a command runs with."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mirage.workspace.shell.streams import InStream, OutStream


@dataclass(frozen=True)
class IO:
    stdin: InStream
    stdout: OutStream
    stderr: OutStream

    def with_(self, **changes) -> "IO":
        return replace(self, **changes)

    def fd(self, number: int):
        return {0: self.stdin, 1: self.stdout, 2: self.stderr}.get(number)
