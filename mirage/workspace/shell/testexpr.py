"""The primaries of ``test`` / ``[`` / ``[[``, evaluated against the workspace FS."""

from __future__ import annotations

import re

from mirage.workspace.shell.errors import CommandError
from mirage.workspace.vfs.base import VfsError

UNARY_FILE = frozenset("efdsrwxLhpSbcugktGON")
UNARY = UNARY_FILE | {"n", "z", "v", "o"}
BINARY = frozenset({"=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge",
                    "-nt", "-ot", "-ef"})


def is_unary(op: str) -> bool:
    return len(op) == 2 and op[0] == "-" and op[1] in UNARY


def is_binary(op: str) -> bool:
    return op in BINARY


async def unary_test(op: str, value: str, fs, state) -> bool:
    flag = op[1:]
    if flag == "n":
        return value != ""
    if flag == "z":
        return value == ""
    if flag == "v":
        return state.get(value) is not None
    if flag == "o":
        return False
    if not value:
        return False
    try:
        st = await fs.stat(state.resolve(value))
    except VfsError:
        return False
    if flag == "e":
        return True
    if flag == "f":
        return st.is_file
    if flag == "d":
        return st.is_dir
    if flag == "s":
        return st.size > 0 if st.is_file else True
    if flag in ("L", "h"):
        return st.type == "symlink"
    if flag == "r":
        return bool(st.mode & 0o444)
    if flag == "w":
        return bool(st.mode & 0o222) and not getattr(fs, "read_only", False)
    if flag == "x":
        return bool(st.mode & 0o111)
    return False


def _int(text: str) -> int:
    stripped = text.strip()
    if not re.fullmatch(r"[-+]?[0-9]+", stripped):
        raise CommandError(f"{text}: integer expression expected", 2)
    return int(stripped)


def binary_test(op: str, a: str, b: str) -> bool:
    if op in ("=", "=="):
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op in ("-nt", "-ot", "-ef"):
        return False
    x, y = _int(a), _int(b)
    return {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y,
            "-gt": x > y, "-ge": x >= y}[op]
