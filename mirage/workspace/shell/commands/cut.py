"""cut -f LIST [-d DELIM] [-s] | -c LIST | -b LIST [--complement] [FILE]..."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import Usage, parse_flags, split_lines

NAMES = ("cut",)


def parse_list(spec: str) -> list[tuple[int, int | None]]:
    ranges = []
    for part in spec.split(","):
        if not part:
            raise Usage("fields and positions are numbered from 1")
        if "-" in part:
            a, _, b = part.partition("-")
            start = int(a) if a else 1
            end = int(b) if b else None
        else:
            start = end = int(part) if part.isdigit() else -1
        if start < 1 or (end is not None and end < start):
            raise Usage("fields and positions are numbered from 1" if start < 1
                        else "invalid decreasing range")
        ranges.append((start, end))
    return ranges


def selected(index: int, ranges) -> bool:
    return any(a <= index and (b is None or index <= b) for a, b in ranges)


async def run(inv) -> int:
    opts, files = parse_flags(inv.args, "sn", with_value="fcbdO", long={
        "fields": "f", "characters": "c", "bytes": "b", "delimiter": "d",
        "only-delimited": "s", "complement": "C", "output-delimiter": "O"})
    mode = next((m for m in "fcb" if m in opts), None)
    if mode is None:
        raise Usage("you must specify a list of bytes, characters, or fields")
    try:
        ranges = parse_list(opts[mode])
    except ValueError:
        raise Usage(f"invalid field value '{opts[mode]}'") from None
    complement = bool(opts.get("C"))
    delim = opts.get("d", "\t")
    if mode == "f" and len(delim.encode()) != 1:
        raise Usage("the delimiter must be a single character")
    out_delim = opts.get("O", delim if mode == "f" else "").encode()
    inputs, status = await inv.read_inputs(files)
    out = bytearray()
    for _, data in inputs:
        for line in split_lines(data):
            await inv.tick()
            if mode == "f":
                d = delim.encode()
                if d not in line:
                    if not opts.get("s"):
                        out += line + b"\n"
                    continue
                parts = line.split(d)
                keep = [p for i, p in enumerate(parts, 1) if selected(i, ranges) != complement]
                out += out_delim.join(keep) + b"\n"
            else:
                units = line if mode == "b" else line.decode("utf-8", "surrogateescape")
                keep = [u for i, u in enumerate(units, 1) if selected(i, ranges) != complement]
                if mode == "b":
                    out += bytes(keep) + b"\n"
                else:
                    out += "".join(keep).encode("utf-8", "surrogateescape") + b"\n"
    await inv.out(bytes(out))
    return status
