"""base64 [-d] [-w COLS] [FILE]"""

from __future__ import annotations

import base64 as b64
import binascii

from mirage.workspace.shell.commands._base import parse_flags

NAMES = ("base64",)


async def run(inv) -> int:
    opts, files = parse_flags(inv.args, "di", with_value="w", long={"decode": "d", "wrap": "w",
                                                                    "ignore-garbage": "i"})
    inputs, status = await inv.read_inputs(files[:1])
    if status:
        return 1
    data = inputs[0][1]
    if opts.get("d"):
        cleaned = b"".join(data.split())
        try:
            await inv.out(b64.b64decode(cleaned, validate=not opts.get("i")))
        except (binascii.Error, ValueError):
            await inv.error("invalid input")
            return 1
        return 0
    encoded = b64.b64encode(data)
    wrap = int(opts.get("w", 76))
    if wrap > 0:
        lines = [encoded[i:i + wrap] for i in range(0, len(encoded), wrap)]
        await inv.out(b"\n".join(lines) + (b"\n" if lines else b""))
    else:
        await inv.out(encoded)
    return 0
