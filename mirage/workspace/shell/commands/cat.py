"""cat [-nbsAETv] [FILE]... — '-' or no file reads stdin (streamed when no option is given)."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import parse_flags
from mirage.workspace.vfs.base import VfsError

NAMES = ("cat",)


def _visible(line: bytes, tabs: bool, nonprinting: bool) -> bytes:
    out = bytearray()
    for b in line:
        if b == 9 and tabs:
            out += b"^I"
        elif nonprinting and b != 9 and b != 10:
            if b >= 128:
                out += b"M-"
                b -= 128
            if b < 32:
                out += b"^" + bytes([b + 64])
            elif b == 127:
                out += b"^?"
            else:
                out.append(b)
        else:
            out.append(b)
    return bytes(out)


async def run(inv) -> int:
    opts, files = parse_flags(inv.args, "nbsAETvetu", long={
        "number": "n", "number-nonblank": "b", "squeeze-blank": "s", "show-all": "A",
        "show-ends": "E", "show-tabs": "T", "show-nonprinting": "v"})
    ends = bool(opts.get("A") or opts.get("E") or opts.get("e"))
    tabs = bool(opts.get("A") or opts.get("T") or opts.get("t"))
    nonprinting = bool(opts.get("A") or opts.get("v") or opts.get("e") or opts.get("t"))
    number_all, number_nonblank = bool(opts.get("n")), bool(opts.get("b"))
    squeeze = bool(opts.get("s"))
    plain = not (ends or tabs or nonprinting or number_all or number_nonblank or squeeze)
    status = 0
    counter = 0
    previous_blank = False
    for name in files or ["-"]:
        if name == "-" and plain:
            while True:
                chunk = await inv.stdin.read()
                if not chunk:
                    break
                await inv.out(chunk)
            continue
        try:
            data = await inv.read_file(name)
        except VfsError as exc:
            await inv.error(f"{exc.path}: {exc.detail}")
            status = 1
            continue
        if plain:
            await inv.out(data)
            continue
        out = bytearray()
        for line in data.splitlines(keepends=True):
            body = line[:-1] if line.endswith(b"\n") else line
            blank = body == b""
            if squeeze and blank and previous_blank:
                continue
            previous_blank = blank
            if number_nonblank and not blank or number_all and not number_nonblank:
                counter += 1
                out += f"{counter:6d}\t".encode()
            out += _visible(body, tabs, nonprinting)
            if line.endswith(b"\n"):
                out += (b"$" if ends else b"") + b"\n"
        await inv.out(bytes(out))
    return status
