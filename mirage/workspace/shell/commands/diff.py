"""diff [-u|-U N] [-q] [-i] [-w] [-b] [-B] FILE1 FILE2 — normal or unified output."""

from __future__ import annotations

import difflib
import time

from mirage.workspace.shell.commands._base import Usage, dec, enc, parse_flags
from mirage.workspace.vfs.base import VfsError

NAMES = ("diff",)


def _range(a: int, b: int) -> str:
    """Normal-format line range for lines a..b-1 (0-based half-open)."""
    if b - a <= 1:
        return str(b if b > a else a)
    return f"{a + 1},{b}"


def _unified_range(start: int, length: int) -> str:
    first = start + 1 if length else start
    if length == 1:
        return f"{first}"
    return f"{first},{length}"


async def _stamp(inv, name: str) -> str:
    """The file's modification time as GNU diff -u shows it (UTC)."""
    try:
        mtime = (await inv.fs.stat(inv.path(name))).mtime if name != "-" else time.time()
    except VfsError:
        mtime = time.time()
    frac = int((mtime % 1) * 1e9)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(mtime)) + f".{frac:09d} +0000"


async def run(inv) -> int:
    opts, files = parse_flags(inv.args, "uqiwbBsNra", with_value="UC", long={
        "unified": "U", "brief": "q", "ignore-case": "i", "ignore-all-space": "w",
        "ignore-space-change": "b", "ignore-blank-lines": "B", "report-identical-files": "s"})
    if len(files) != 2:
        raise Usage(f"missing operand after '{files[0]}'" if files else "missing operand")
    contents = []
    for name in files:
        try:
            contents.append(dec(await inv.read_file(name)))
        except VfsError as exc:
            await inv.error(f"{exc.path}: {exc.detail}")
            return 2
    a_lines = contents[0].splitlines(keepends=True)
    b_lines = contents[1].splitlines(keepends=True)

    def norm(line: str) -> str:
        if opts.get("i"):
            line = line.lower()
        if opts.get("w"):
            line = "".join(line.split())
        elif opts.get("b"):
            line = " ".join(line.split())
        return line.rstrip("\n") if (opts.get("w") or opts.get("b")) else line

    matcher = difflib.SequenceMatcher(None, [norm(x) for x in a_lines], [norm(x) for x in b_lines],
                                      autojunk=False)
    opcodes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not opcodes:
        if opts.get("s"):
            await inv.out(f"Files {files[0]} and {files[1]} are identical\n")
        return 0
    if opts.get("q"):
        await inv.out(f"Files {files[0]} and {files[1]} differ\n")
        return 1
    out: list[str] = []

    def body(line: str) -> str:
        return line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"

    if opts.get("u") or "U" in opts:
        context = int(opts.get("U", 3))
        stamps = [await _stamp(inv, name) for name in files]
        out.append(f"--- {files[0]}\t{stamps[0]}\n+++ {files[1]}\t{stamps[1]}\n")
        for group in matcher.get_grouped_opcodes(context):
            i1, i2 = group[0][1], group[-1][2]
            j1, j2 = group[0][3], group[-1][4]
            out.append(f"@@ -{_unified_range(i1, i2 - i1)} +{_unified_range(j1, j2 - j1)} @@\n")
            for tag, a1, a2, b1, b2 in group:
                if tag == "equal":
                    out.extend(" " + body(x) for x in a_lines[a1:a2])
                    continue
                out.extend("-" + body(x) for x in a_lines[a1:a2])
                out.extend("+" + body(x) for x in b_lines[b1:b2])
    else:
        for tag, a1, a2, b1, b2 in opcodes:
            if tag == "replace":
                out.append(f"{_range(a1, a2)}c{_range(b1, b2)}\n")
            elif tag == "delete":
                out.append(f"{_range(a1, a2)}d{b1}\n")
            else:
                out.append(f"{a1}a{_range(b1, b2)}\n")
            out.extend("< " + body(x) for x in a_lines[a1:a2])
            if tag == "replace":
                out.append("---\n")
            out.extend("> " + body(x) for x in b_lines[b1:b2])
    await inv.out(enc("".join(out)))
    return 1
