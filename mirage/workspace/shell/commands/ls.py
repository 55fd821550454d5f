"""ls [-1laAdRrtShF] [PATH]... — one name per line (output is never a terminal)."""

from __future__ import annotations

import stat as stat_mod
import time

from mirage.workspace.shell.commands._base import parse_flags
from mirage.workspace.shell.commands._fsutil import join
from mirage.workspace.vfs.base import VfsError

NAMES = ("ls",)


def _mode_string(st) -> str:
    kind = {"dir": "d", "symlink": "l"}.get(st.type, "-")
    return kind + stat_mod.filemode(st.mode & 0o7777)[1:]


def _human(size: int) -> str:
    value = float(size)
    for unit in ("", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            if unit == "":
                return str(size)
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
        value /= 1024
    return str(size)


def _time(mtime: float) -> str:
    t = time.gmtime(mtime)
    if abs(time.time() - mtime) > 180 * 86400:
        return time.strftime("%b %e  %Y", t)
    return time.strftime("%b %e %H:%M", t)


async def run(inv) -> int:
    opts, paths = parse_flags(inv.args, "1laAdRrtShFpUC", long={
        "all": "a", "almost-all": "A", "directory": "d", "recursive": "R", "reverse": "r",
        "human-readable": "h", "classify": "F"})
    status = 0
    files: list[tuple[str, object]] = []
    dirs: list[tuple[str, str]] = []
    for name in paths or ["."]:
        try:
            st = await inv.fs.stat(inv.path(name))
        except VfsError as exc:
            await inv.error(f"cannot access '{name}': {exc.detail}")
            status = 2
            continue
        if st.is_dir and not opts.get("d"):
            dirs.append((name, inv.path(name)))
        else:
            files.append((name, st))
    files = _sorted(files, opts)
    out: list[str] = []
    if files:
        out.extend(_format(files, opts))
    show_headers = len(paths) > 1 or opts.get("R") or (files and dirs)
    queue = sorted(dirs, key=lambda d: d[0].encode())
    if opts.get("r") and not opts.get("t") and not opts.get("S"):
        queue.reverse()
    first = not files
    while queue:
        shown, path = queue.pop(0)
        entries: list[tuple[str, object]] = []
        try:
            names = await inv.fs.readdir(path)
        except VfsError as exc:
            await inv.error(f"cannot open directory '{shown}': {exc.detail}")
            status = 2
            continue
        if opts.get("a"):
            for special in (".", ".."):
                entries.append((special, await inv.fs.stat(path)))
        for name in names:
            if name.startswith(".") and not (opts.get("a") or opts.get("A")):
                continue
            await inv.tick()
            try:
                entries.append((name, await inv.fs.stat(join(path, name))))
            except VfsError:
                continue
        entries = _sorted(entries, opts)
        if show_headers:
            out.append(("" if first else "\n") + f"{shown}:")
        first = False
        if opts.get("l"):
            blocks = sum((getattr(st, "size", 0) + 4095) // 4096 * 4 for _, st in entries)
            out.append(f"total {blocks}")
        out.extend(_format(entries, opts))
        if opts.get("R"):
            subdirs = [(join(shown, n) if shown != "/" else "/" + n, join(path, n))
                       for n, st in entries if st.is_dir and n not in (".", "..")]
            queue = subdirs + queue
    if out:
        await inv.out("\n".join(out) + "\n")
    return status


def _sorted(entries, opts):
    if opts.get("U"):
        return entries
    entries = sorted(entries, key=lambda e: e[0].encode())
    if opts.get("t"):
        entries = sorted(entries, key=lambda e: -e[1].mtime)
    elif opts.get("S"):
        entries = sorted(entries, key=lambda e: -e[1].size)
    if opts.get("r"):
        entries.reverse()
    return entries


def _format(entries, opts) -> list[str]:
    lines = []
    if opts.get("l"):
        sizes = [(_human(st.size) if opts.get("h") else str(st.size)) for _, st in entries]
        width = max((len(s) for s in sizes), default=1)
        for (name, st), size in zip(entries, sizes):
            lines.append(f"{_mode_string(st)} 1 mirage mirage {size.rjust(width)} "
                         f"{_time(st.mtime)} {name}{_suffix(st, opts)}")
        return lines
    return [name + _suffix(st, opts) for name, st in entries]


def _suffix(st, opts) -> str:
    if (opts.get("F") or opts.get("p")) and st.is_dir:
        return "/"
    return ""
