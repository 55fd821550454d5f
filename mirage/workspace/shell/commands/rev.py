"""rev [FILE]... — reverse the characters of each line."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import dec, enc

NAMES = ("rev",)


async def run(inv) -> int:
    inputs, status = await inv.read_inputs(inv.args)
    out = []
    for _, data in inputs:
        for line in dec(data).splitlines(keepends=True):
            body = line.rstrip("\n")
            out.append(body[::-1] + line[len(body):])
    await inv.out(enc("".join(out)))
    return status
