"""cat [-n] [FILE]... — '-' or no file reads stdin (streamed)."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import parse_flags
from mirage.workspace.vfs.base import VfsError

NAMES = ("cat",)


async def run(inv) -> int:
    opts, files = parse_flags(inv.args, "nAvetbsu", long={"number": "n"})
    number = bool(opts.get("n"))
    status = 0
    counter = 0
    for name in files or ["-"]:
        if name == "-" and not number:
            while True:
                chunk = await inv.stdin.read()
                if not chunk:
                    break
                await inv.out(chunk)
            continue
        try:
            data = await inv.read_file(name)
        except VfsError as exc:
            await inv.error(f"{exc.path}: {exc.detail}")
            status = 1
            continue
        if number:
            lines = data.split(b"\n")
            tail = lines.pop() if lines else b""
            for line in lines:
                counter += 1
                await inv.out(f"{counter:6d}\t".encode() + line + b"\n")
            if tail:
                counter += 1
                await inv.out(f"{counter:6d}\t".encode() + tail)
        else:
            await inv.out(data)
    return status
