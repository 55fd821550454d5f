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
    if len(inputs) > 1:
        rows.append(([totals[k] for k in chosen], "total"))
    if not files and len(chosen) == 1:
        width = 1
    elif not files:
        width = 7
    else:
        width = max([len(str(v)) for r, _ in rows for v in r] + [1])
        if status and len(chosen) > 1:
            width = max(width, 7)
    for values, name in rows:
        line = " ".join(str(v).rjust(width) for v in values)
        await inv.out(line + (f" {name}" if name else "") + "\n")
    return status
