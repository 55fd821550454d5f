"""stat [-c FORMAT] FILE... (%n %s %F %a %A %Y %y %U %G %i %h %b); du [-sh] [-a] [-c] [PATH]..."""

from __future__ import annotations

import stat as stat_mod
import time

from mirage.workspace.shell.commands._base import parse_flags
from mirage.workspace.shell.commands._fsutil import walk
from mirage.workspace.vfs.base import VfsError

NAMES = ("stat", "du")


def _kind(st) -> str:
    if st.is_dir:
        return "directory"
    if st.type == "symlink":
        return "symbolic link"
    return "regular file" if st.size else "regular empty file"


def _fmt(fmt: str, name: str, st) -> str:
    mode = ({"dir": "d", "symlink": "l"}.get(st.type, "-") + stat_mod.filemode(st.mode & 0o7777)[1:])
    values = {
        "n": name, "s": str(st.size), "F": _kind(st), "a": f"{st.mode & 0o7777:o}", "A": mode,
        "Y": str(int(st.mtime)), "y": time.strftime("%Y-%m-%d %H:%M:%S.000000000 +0000",
                                                    time.gmtime(st.mtime)),
        "U": "mirage", "G": "mirage", "u": "0", "g": "0", "i": "0", "h": "1",
        "b": str(-(-st.size // 512)), "B": "512", "%": "%",
    }
    out = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            out.append(values.get(fmt[i + 1], "?"))
            i += 2
        elif fmt[i] == "\\" and i + 1 < len(fmt) and fmt[i + 1] == "n":
            out.append("\n")
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def _human(kib: int) -> str:
    value = float(kib)
    unit = "K"
    for nxt in ("M", "G", "T"):
        if value < 1024:
            break
        value /= 1024
        unit = nxt
    if value < 10 and unit != "K":
        return f"{-(-value * 10 // 1) / 10:.1f}{unit}"
    return f"{-(-value // 1):.0f}{unit}"


async def run(inv) -> int:
    if inv.name == "du":
        return await _du(inv)
    opts, names = parse_flags(inv.args, "Lt", with_value="c", long={"format": "c", "printf": "c"})
    status = 0
    for name in names:
        try:
            st = await inv.fs.stat(inv.path(name))
        except VfsError as exc:
            await inv.error(f"cannot statx '{name}': {exc.detail}")
            status = 1
            continue
        if "c" in opts:
            await inv.out(_fmt(opts["c"], name, st) + "\n")
        else:
            await inv.out(
                f"  File: {name}\n  Size: {st.size}\tBlocks: {-(-st.size // 512)}\t"
                f"{_kind(st)}\nAccess: ({st.mode & 0o7777:04o}/{_fmt('%A', name, st)})\n"
                f"Modify: {_fmt('%y', name, st)}\n")
    return status


async def _du(inv) -> int:
    opts, names = parse_flags(inv.args, "shacbk", with_value="d", long={
        "summarize": "s", "human-readable": "h", "all": "a", "total": "c", "bytes": "b",
        "max-depth": "d", "apparent-size": "A"})
    status = 0
    grand = 0
    max_depth = 0 if opts.get("s") else (int(opts["d"]) if "d" in opts else None)

    def show(size: int) -> str:
        if opts.get("b"):
            return str(size)
        kib = -(-size // 1024)
        return _human(kib) if opts.get("h") else str(kib)

    for name in names or ["."]:
        base = inv.path(name)
        sizes: dict[str, int] = {}
        order: list[tuple[str, int, bool]] = []
        try:
            async for path, st, depth in walk(inv, base):
                order.append((path, depth, st.is_dir))
                sizes[path] = st.size if not st.is_dir else 0
        except VfsError as exc:
            await inv.error(f"cannot access '{name}': {exc.detail}")
            status = 1
            continue
        totals: dict[str, int] = {}
        for path, depth, is_dir in reversed(order):
            total = sizes[path] if opts.get("b") else -(-sizes[path] // 1024) * 1024
            if is_dir:
                prefix = path.rstrip("/") + "/"
                total += sum(v for k, v in totals.items() if k.startswith(prefix)
                             and "/" not in k[len(prefix):])
            totals[path] = total
        ordered = _post_order(order, base, name, totals, show, max_depth, opts)
        await inv.out("".join(line + "\n" for line in ordered))
        grand += totals[base]
    if opts.get("c"):
        await inv.out(f"{show(grand)}\ttotal\n")
    return status


def _post_order(order, base, name, totals, show, max_depth, opts):
    """du prints children before their parent (post-order)."""
    children: dict[str, list[str]] = {}
    info = {p: (d, is_dir) for p, d, is_dir in order}
    for path, depth, is_dir in order:
        if path == base:
            continue
        parent = path.rsplit("/", 1)[0] or "/"
        children.setdefault(parent, []).append(path)
    out: list[str] = []

    def visit(path: str) -> None:
        depth, is_dir = info[path]
        for child in children.get(path, []):
            visit(child)
        if max_depth is not None and depth > max_depth:
            return
        if not is_dir and not opts.get("a") and depth > 0:
            return
        shown = name + path[len(base):] if base != "/" else name.rstrip("/") + path
        out.append(f"{show(totals[path])}\t{shown if path != base else name}")

    visit(base)
    return out
