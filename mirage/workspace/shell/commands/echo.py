"""echo [-neE] [ARG]..."""

from __future__ import annotations

import re

from mirage.workspace.shell.commands._base import byte_char

NAMES = ("echo",)

_ESC = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "f": "\f",
        "v": "\v", "\\": "\\"}


def interpret_escapes(text: str) -> tuple[str, bool]:
    """GNU ``echo -e`` escapes; returns (text, stop) where stop means ``\\c`` was seen."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            d = text[i + 1]
            if d in _ESC:
                out.append(_ESC[d])
                i += 2
                continue
            if d == "c":
                return "".join(out), True
            if d == "0":
                m = re.match(r"[0-7]{0,3}", text[i + 2:])
                out.append(byte_char(int(m.group(0) or "0", 8)))
                i += 2 + m.end()
                continue
            if d == "x":
                m = re.match(r"[0-9a-fA-F]{1,2}", text[i + 2:])
                if m:
                    out.append(byte_char(int(m.group(0), 16)))
                    i += 2 + m.end()
                    continue
        out.append(c)
        i += 1
    return "".join(out), False


async def run(inv) -> int:
    args = list(inv.args)
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for c in args[0][1:]:
            if c == "n":
                newline = False
            elif c == "e":
                escapes = True
            else:
                escapes = False
        args.pop(0)
    text = " ".join(args)
    if escapes:
        text, stop = interpret_escapes(text)
        if stop:
            await inv.out(text)
            return 0
    await inv.out(text + ("\n" if newline else ""))
    return 0
