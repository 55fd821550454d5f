"""sleep NUMBER[smhd]... — waits without blocking the daemon."""

from __future__ import annotations

import asyncio
import re

NAMES = ("sleep",)


async def run(inv) -> int:
    if not inv.args:
        await inv.error("missing operand")
        return 1
    total = 0.0
    for arg in inv.args:
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", arg)
        if not m:
            await inv.error(f"invalid time interval '{arg}'")
            return 1
        total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    await asyncio.sleep(total)
    return 0
