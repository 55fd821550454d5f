"""wc [-lwcm] [FILE]... — GNU column widths."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import parse_flags

NAMES = ("wc",)


async def run(inv) -> int:
    opts, files = parse_flags(inv.args, "lwcmL", long={"lines": "l", "words": "w", "bytes": "c",
                                                        "chars": "m"})
    chosen = [f for f in "lwmc" if opts.get(f)] or ["l", "w", "c"]
    inputs, status = await inv.read_inputs(files)
    rows = []
    totals = {k: 0 for k in "lwmc"}
    for name, data in inputs:
        counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data),
                  "m": len(data.decode("utf-8", "replace"))}
        for k in totals:
            totals[k] += counts[k]
        rows.append(([counts[k] for k in chosen], name if files else ""))
    if len(files) > 1:
        rows.append(([totals[k] for k in chosen], "total"))
    if len(chosen) == 1 and len(files) <= 1:
        width = 1                       # GNU: a lone number is not padded
    else:
        regular_total = sum(len(data) for name, data in inputs if name != "-")
        width = max(len(str(regular_total)), 7 if any(n == "-" for n, _ in inputs) else 1)
    for values, name in rows:
        line = " ".join(str(v).rjust(width) for v in values)
        await inv.out(line + (f" {name}" if name else "") + "\n")
    return status
