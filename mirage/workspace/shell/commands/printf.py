"""printf FORMAT [ARG]... — %s %d %i %u %x %X %o %f %e %g %c %b %q %%, widths, precision;
the format is reused while arguments remain."""

from __future__ import annotations

import re

from mirage.workspace.shell.commands._base import byte_char
from mirage.workspace.shell.commands.echo import interpret_escapes

NAMES = ("printf",)

_SPEC = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([diouxXfFeEgGcsbq%])")
_ESC = re.compile(r"\\(\\|n|t|r|a|b|f|v|e|\"|'|[0-7]{1,3}|x[0-9a-fA-F]{1,2}|c)")


def _escapes(fmt: str) -> tuple[str, bool]:
    stop = False

    def repl(m):
        nonlocal stop
        s = m.group(1)
        simple = {"\\": "\\", "n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b",
                  "f": "\f", "v": "\v", "e": "\x1b", '"': '"', "'": "'"}
        if s in simple:
            return simple[s]
        if s == "c":
            stop = True
            return ""
        if s[0] == "x":
            return byte_char(int(s[1:], 16))
        return byte_char(int(s, 8))
    out = _ESC.sub(repl, fmt)
    return out, stop


def _number(text: str, inv_errors: list[str]) -> int:
    t = text.strip()
    if t[:1] in ("'", '"') and len(t) >= 2:
        return ord(t[1])
    try:
        if re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+", t):
            return int(t, 16)
        if re.fullmatch(r"[-+]?0[0-7]+", t):
            return int(t, 8)
        return int(t) if t else 0
    except ValueError:
        inv_errors.append(f"{text}: invalid number")
        m = re.match(r"[-+]?\d+", t)
        return int(m.group(0)) if m else 0


def _float(text: str, errors: list[str]) -> float:
    try:
        return float(text) if text.strip() else 0.0
    except ValueError:
        errors.append(f"{text}: invalid number")
        return 0.0


def render(fmt: str, args: list[str], errors: list[str]) -> tuple[str, bool]:
    out: list[str] = []
    consumed_any = False
    idx = 0
    while True:
        pos = 0
        used = 0
        for m in _SPEC.finditer(fmt):
            text, stop = _escapes(fmt[pos:m.start()])
            out.append(text)
            if stop:
                return "".join(out), True
            pos = m.end()
            flags, width, prec, conv = m.groups()
            if conv == "%":
                out.append("%")
                continue

            def next_arg():
                nonlocal idx, used
                used += 1
                if idx < len(args):
                    idx += 1
                    return args[idx - 1]
                return None
            if width == "*":
                w = next_arg()
                width = str(_number(w or "0", errors))
            if prec == "*":
                p = next_arg()
                prec = str(_number(p or "0", errors))
            arg = next_arg()
            spec = "%" + flags + (width or "") + ("." + prec if prec is not None else "")
            if conv in "diouxX":
                value = _number(arg, errors) if arg is not None else 0
                if conv == "u" and value < 0:
                    value += 1 << 64
                py = conv if conv not in "iu" else "d"
                out.append((spec + py) % value)
            elif conv in "fFeEgG":
                value = _float(arg, errors) if arg is not None else 0.0
                out.append((spec + conv) % value)
            elif conv == "c":
                out.append((spec + "s") % ((arg or "")[:1]))
            elif conv == "b":
                text2, stop = interpret_escapes(arg or "")
                out.append((spec + "s") % text2)
                if stop:
                    return "".join(out), True
            elif conv == "q":
                value = arg or ""
                out.append(re.sub(r"([^A-Za-z0-9_./,:=@%+-])", r"\\\1", value) if value else "''")
            else:
                out.append((spec + "s") % (arg if arg is not None else ""))
        text, stop = _escapes(fmt[pos:])
        out.append(text)
        if stop:
            return "".join(out), True
        consumed_any = consumed_any or used > 0
        if idx >= len(args) or used == 0:
            return "".join(out), False


async def run(inv) -> int:
    if not inv.args:
        await inv.error("usage: printf format [arguments]")
        return 2
    args = list(inv.args)
    if args[0] == "--":
        args.pop(0)
    errors: list[str] = []
    text, _ = render(args[0], args[1:], errors)
    await inv.out(text)
    for message in errors:
        await inv.error(message)
    return 1 if errors else 0
