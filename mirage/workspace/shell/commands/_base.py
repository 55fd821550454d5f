"""What a command gets: its arguments, streams, the shell state and the workspace FS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mirage.workspace.shell.errors import CommandError
from mirage.workspace.shell.state import ShellState
from mirage.workspace.shell.streams import InStream, OutStream
from mirage.workspace.vfs.base import VfsError


def enc(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def dec(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def byte_char(value: int) -> str:
    """One raw byte as shell text: ASCII as itself, 0x80-0xFF as a surrogate escape so it
    is written back as that single byte (what bash's \\ooo and \\xHH produce)."""
    value &= 0xFF
    return chr(value) if value < 0x80 else bytes([value]).decode("utf-8", "surrogateescape")


@dataclass
class Invocation:
    name: str
    args: list[str]
    stdin: InStream
    stdout: OutStream
    stderr: OutStream
    state: ShellState
    fs: Any
    interp: Any

    async def tick(self) -> None:
        await self.interp.tick()

    async def out(self, data: bytes | str) -> None:
        await self.interp.tick()
        await self.stdout.write(enc(data) if isinstance(data, str) else data)

    async def error(self, message: str) -> None:
        await self.stderr.write(enc(f"{self.name}: {message}\n"))

    def path(self, name: str) -> str:
        return self.state.resolve(name)

    async def read_file(self, name: str) -> bytes:
        """A file's bytes; '-' is stdin. Raises VfsError with the name as given."""
        if name == "-" or name == "/dev/stdin":
            return await self.stdin.read_all(limit=self.interp.file_budget.limit)
        if name == "/dev/null":
            return b""
        try:
            st = await self.fs.stat(self.path(name))
            if st.is_dir:
                raise VfsError(21, name, "Is a directory")
            return await self.fs.read(self.path(name))
        except VfsError as exc:
            raise VfsError(exc.code, name, exc.detail) from None

    async def read_inputs(self, files: list[str]) -> tuple[list[tuple[str, bytes]], int]:
        """(name, data) for each readable file (stdin if none); status 1 if any failed."""
        status = 0
        results: list[tuple[str, bytes]] = []
        for name in files or ["-"]:
            try:
                results.append((name, await self.read_file(name)))
            except VfsError as exc:
                await self.error(f"{exc.path}: {exc.detail}")
                status = 1
        return results, status


# GNU tools exit 1 on a usage error, except these (2, like their other hard errors)
USAGE_STATUS_2 = frozenset({"grep", "egrep", "fgrep", "ls", "sort", "diff", "test", "[", "jq",
                            "du", "find"})


class Usage(CommandError):
    """A usage error; its exit status follows the command (see USAGE_STATUS_2)."""

    def __init__(self, message: str):
        super().__init__(message, 2)


def split_lines(data: bytes) -> list[bytes]:
    """Lines without their newline; a final newline does not make an empty line."""
    if not data:
        return []
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def parse_flags(args: list[str], flags: str, with_value: str = "", long: dict[str, str] | None = None,
                name: str = "") -> tuple[dict[str, Any], list[str]]:
    """GNU-ish short option parsing: ``-abc``, ``-n5``/``-n 5``, ``--``, ``--long[=v]``.
    Returns ({flag: True or value or [values]}, operands). Options may follow operands."""
    opts: dict[str, Any] = {}
    rest: list[str] = []
    long = long or {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i + 1:])
            break
        if arg.startswith("--") and len(arg) > 2:
            key, eq, value = arg[2:].partition("=")
            if key not in long:
                raise Usage(f"unrecognized option '{arg}'")
            flag = long[key]
            if flag in with_value:
                if not eq:
                    i += 1
                    if i >= len(args):
                        raise Usage(f"option '--{key}' requires an argument")
                    value = args[i]
                opts.setdefault(flag + "*", []).append(value)
                opts[flag] = value
            else:
                opts[flag] = True
            i += 1
            continue
        if arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                c = arg[j]
                if c in with_value:
                    value = arg[j + 1:]
                    if not value:
                        i += 1
                        if i >= len(args):
                            raise Usage(f"option requires an argument -- '{c}'")
                        value = args[i]
                    opts.setdefault(c + "*", []).append(value)
                    opts[c] = value
                    break
                if c not in flags:
                    raise Usage(f"invalid option -- '{c}'")
                opts[c] = True
                j += 1
            i += 1
            continue
        rest.append(arg)
        i += 1
    return opts, rest
