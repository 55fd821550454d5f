"""tee [-a] [FILE]... — copy stdin to stdout and files."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import parse_flags
from mirage.workspace.vfs.base import VfsError

NAMES = ("tee",)


async def run(inv) -> int:
    opts, files = parse_flags(inv.args, "ai", long={"append": "a"})
    status = 0
    targets = []
    specials = []
    for name in files:
        if name in ("/dev/null", "/dev/stdout", "/dev/stderr"):
            specials.append(name)
            continue
        path = inv.path(name)
        try:
            await inv.fs.write(path, b"", append=bool(opts.get("a")))
            targets.append(path)
        except VfsError as exc:
            await inv.error(f"{name}: {exc.detail}")
            status = 1
    while True:
        chunk = await inv.stdin.read()
        if not chunk:
            break
        for path in targets:
            await inv.fs.write(path, chunk, append=True)
        await inv.out(chunk)
        for name in specials:
            if name == "/dev/stdout":
                await inv.out(chunk)
            elif name == "/dev/stderr":
                await inv.stderr.write(chunk)
    return status
