"""tr [-d] [-s] [-c] SET1 [SET2] — ranges, classes ([:upper:]...), escapes."""

from __future__ import annotations

import re

from mirage.workspace.shell.commands._base import Usage, parse_flags

NAMES = ("tr",)

_CLASSES = {
    "upper": bytes(range(65, 91)), "lower": bytes(range(97, 123)),
    "digit": b"0123456789", "alpha": bytes(range(65, 91)) + bytes(range(97, 123)),
    "alnum": b"0123456789" + bytes(range(65, 91)) + bytes(range(97, 123)),
    "space": b" \t\n\r\f\v", "blank": b" \t", "punct": bytes(c for c in range(33, 127)
                                                            if not chr(c).isalnum()),
    "xdigit": b"0123456789ABCDEFabcdef", "cntrl": bytes(range(0, 32)) + b"\x7f",
    "print": bytes(range(32, 127)), "graph": bytes(range(33, 127)),
}
_ESC = {"n": 10, "t": 9, "r": 13, "\\": 92, "a": 7, "b": 8, "f": 12, "v": 11}


def expand_set(spec: str) -> bytes:
    data = spec.encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 0
    # first decode escapes into tokens, then expand ranges, classes and [c*n] repeats
    tokens: list[tuple[str, object]] = []
    while i < len(data):
        if data[i:i + 2] == b"[:":
            end = data.find(b":]", i + 2)
            if end > 0 and data[i + 2:end].decode() in _CLASSES:
                tokens.append(("class", data[i + 2:end].decode()))
                i = end + 2
                continue
        m = re.match(rb"\[(.)\*(\d*)\]", data[i:])
        if m:
            tokens.append(("repeat", (m.group(1)[0], int(m.group(2) or 0))))
            i += m.end()
            continue
        c = data[i]
        if c == 92 and i + 1 < len(data):
            nxt = chr(data[i + 1])
            m = re.match(rb"[0-7]{1,3}", data[i + 1:])
            if m:
                tokens.append(("byte", int(m.group(0), 8) & 0xFF))
                i += 1 + m.end()
                continue
            tokens.append(("byte", _ESC.get(nxt, data[i + 1])))
            i += 2
            continue
        tokens.append(("byte", c))
        i += 1
    j = 0
    while j < len(tokens):
        kind, value = tokens[j]
        if kind == "class":
            out += _CLASSES[value]
        elif kind == "repeat":
            out += bytes([value[0]]) * (value[1] or 0) if value[1] else b"\x00REPEAT" + bytes([value[0]])
        elif j + 2 < len(tokens) and tokens[j + 1] == ("byte", 45) and tokens[j + 2][0] == "byte":
            lo, hi = value, tokens[j + 2][1]
            if hi < lo:
                raise Usage(f"range-endpoints of '{chr(lo)}-{chr(hi)}' are in reverse collating sequence order")
            out += bytes(range(lo, hi + 1))
            j += 3
            continue
        else:
            out.append(value)
        j += 1
    return bytes(out)


async def run(inv) -> int:
    opts, sets = parse_flags(inv.args, "dscCt", long={"delete": "d", "squeeze-repeats": "s",
                                                      "complement": "c", "truncate-set1": "t"})
    complement = opts.get("c") or opts.get("C")
    if not sets:
        raise Usage("missing operand")
    set1 = expand_set(sets[0])
    if complement:
        set1 = bytes(b for b in range(256) if b not in set1)
    set2 = expand_set(sets[1]) if len(sets) > 1 else b""
    if b"\x00REPEAT" in set2:
        idx = set2.index(b"\x00REPEAT")
        fill = set2[idx + 7]
        before, after = set2[:idx], set2[idx + 8:]
        set2 = before + bytes([fill]) * max(0, len(set1) - len(before) - len(after)) + after
    delete = opts.get("d")
    squeeze = opts.get("s")
    if not delete and len(sets) < 2 and not squeeze:
        raise Usage(f"missing operand after '{sets[0]}'")
    data = await inv.stdin.read_all(limit=inv.interp.file_budget.limit)
    if delete:
        data = data.translate(None, set1)
        squeeze_set = set2 if squeeze else b""
    elif len(sets) > 1:
        if not set2:
            raise Usage("when not truncating set1, string2 must be non-empty")
        if len(set2) < len(set1):
            set2 = set2 + set2[-1:] * (len(set1) - len(set2))
        table = bytearray(range(256))
        for a, b in zip(set1, set2):
            table[a] = b
        if complement:
            for a in set1:
                table[a] = set2[-1]
        data = data.translate(bytes(table))
        squeeze_set = set2
    else:
        squeeze_set = set1
    if squeeze and squeeze_set:
        members = set(squeeze_set)
        out = bytearray()
        for b in data:
            if out and b == out[-1] and b in members:
                continue
            out.append(b)
        data = bytes(out)
    await inv.out(data)
    return 0
