"""seq [-s SEP] [-w] [-f FMT] [FIRST [INCREMENT]] LAST"""

from __future__ import annotations

import re

from mirage.workspace.shell.commands._base import Usage

NAMES = ("seq",)


def _num(text: str):
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise Usage(f"invalid floating point argument: '{text}'")
    return float(text) if re.search(r"[.eE]", text) else int(text)


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text and "e" not in text.lower() else 0


async def run(inv) -> int:
    args = list(inv.args)
    sep, width, fmt = "\n", False, None
    nums: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-s" or a == "-f":
            if i + 1 >= len(args):
                raise Usage(f"option requires an argument -- '{a[1]}'")
            if a == "-s":
                sep = args[i + 1]
            else:
                fmt = args[i + 1]
            i += 2
            continue
        if a.startswith("-s") and len(a) > 2:
            sep = a[2:]
        elif a.startswith("-f") and len(a) > 2:
            fmt = a[2:]
        elif a == "-w":
            width = True
        else:
            nums.append(a)
        i += 1
    if not 1 <= len(nums) <= 3:
        raise Usage("missing operand" if not nums else f"extra operand '{nums[3]}'")
    values = [_num(n) for n in nums]
    first, step, last = (1, 1, values[0]) if len(values) == 1 else \
        (values[0], 1, values[1]) if len(values) == 2 else tuple(values)
    if step == 0:
        raise Usage(f"invalid Zero increment value: '{nums[1]}'")
    decimals = max(_decimals(n) for n in nums)
    out: list[str] = []
    k = 0
    while True:
        value = first + k * step
        if (step > 0 and value > last) or (step < 0 and value < last):
            break
        if fmt:
            out.append(fmt % value if "%" in fmt else fmt)
        elif decimals:
            out.append(f"{value:.{decimals}f}")
        else:
            out.append(str(int(value)))
        k += 1
        if k % 1024 == 0:
            await inv.out(sep.join(out) + sep)
            out = []
    if width and out and not fmt:
        w = max(len(x) for x in out)
        out = [x.zfill(w) for x in out]
    if out:
        await inv.out(sep.join(out) + "\n")
    return 0
