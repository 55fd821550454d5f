"""uniq [-c] [-d] [-u] [-i] [-f N] [-s N] [INPUT [OUTPUT]]"""

from __future__ import annotations

from mirage.workspace.shell.commands._base import parse_flags, split_lines

NAMES = ("uniq",)


async def run(inv) -> int:
    opts, files = parse_flags(inv.args, "cdui", with_value="fsw", long={
        "count": "c", "repeated": "d", "unique": "u", "ignore-case": "i"})
    inputs, status = await inv.read_inputs(files[:1])
    if status:
        return 1
    lines = split_lines(inputs[0][1]) if inputs else []
    skip_fields = int(opts.get("f", 0))
    skip_chars = int(opts.get("s", 0))

    def key(line: bytes) -> bytes:
        rest = line
        for _ in range(skip_fields):
            rest = rest.lstrip(b" \t")
            idx = min([i for i in (rest.find(b" "), rest.find(b"\t")) if i >= 0] or [len(rest)])
            rest = rest[idx:]
        rest = rest[skip_chars:]
        if "w" in opts:
            rest = rest[:int(opts["w"])]
        return rest.lower() if opts.get("i") else rest

    groups: list[tuple[bytes, int]] = []
    for line in lines:
        if groups and key(groups[-1][0]) == key(line):
            groups[-1] = (groups[-1][0], groups[-1][1] + 1)
        else:
            groups.append((line, 1))
    out = bytearray()
    for line, count in groups:
        if opts.get("d") and count < 2:
            continue
        if opts.get("u") and count > 1:
            continue
        if opts.get("c"):
            out += f"{count:7d} ".encode()
        out += line + b"\n"
    if len(files) > 1:
        await inv.fs.write(inv.path(files[1]), bytes(out))
        return 0
    await inv.out(bytes(out))
    return 0
