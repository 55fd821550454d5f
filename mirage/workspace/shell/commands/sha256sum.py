"""sha256sum / md5sum / sha1sum [FILE]... (and -c is not supported)."""

from __future__ import annotations

import hashlib

from mirage.workspace.shell.commands._base import parse_flags

NAMES = ("sha256sum", "md5sum", "sha1sum", "sha512sum")


async def run(inv) -> int:
    opts, files = parse_flags(inv.args, "bt")
    algo = inv.name[:-3]
    inputs, status = await inv.read_inputs(files)
    for name, data in inputs:
        await inv.out(f"{hashlib.new(algo, data).hexdigest()}  {name}\n")
    return status
