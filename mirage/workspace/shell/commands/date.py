"""date [-u] [+FORMAT] [-d @EPOCH] — the daemon's clock (UTC unless TZ-free local time)."""

from __future__ import annotations

import time

NAMES = ("date",)


async def run(inv) -> int:
    fmt = "%a %b %e %H:%M:%S UTC %Y"
    moment = time.time()
    args = list(inv.args)
    while args:
        a = args.pop(0)
        if a in ("-u", "--utc", "-R"):
            if a == "-R":
                fmt = "%a, %d %b %Y %H:%M:%S +0000"
            continue
        if a in ("-d", "--date") and args:
            value = args.pop(0)
            if not value.startswith("@"):
                await inv.error(f"invalid date '{value}' (only @EPOCH is supported)")
                return 1
            try:
                moment = float(value[1:])
            except ValueError:
                await inv.error(f"invalid date '{value}'")
                return 1
            continue
        if a.startswith("+"):
            fmt = a[1:]
            continue
        if a == "-I" or a == "--iso-8601":
            fmt = "%Y-%m-%d"
            continue
        await inv.error(f"invalid option or operand '{a}'")
        return 1
    stamp = time.gmtime(moment)
    text = fmt.replace("%N", f"{int((moment % 1) * 1e9):09d}").replace("%s", str(int(moment)))
    await inv.out(time.strftime(text, stamp) + "\n")
    return 0
