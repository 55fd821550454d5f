"""grep [-ivncloqwxhHrREFsA N -B N -C N -e PAT -m N] PATTERN [FILE]..."""

from __future__ import annotations

import re

from mirage.workspace.shell.commands._base import dec, enc, parse_flags
from mirage.workspace.shell.patterns import compile_posix, compile_user_regex
from mirage.workspace.vfs.base import VfsError

NAMES = ("grep", "egrep", "fgrep")

_LONG = {"ignore-case": "i", "invert-match": "v", "line-number": "n", "count": "c",
         "files-with-matches": "l", "files-without-match": "L", "only-matching": "o",
         "quiet": "q", "silent": "q", "word-regexp": "w", "line-regexp": "x", "recursive": "r",
         "extended-regexp": "E", "fixed-strings": "F", "no-filename": "h", "with-filename": "H",
         "after-context": "A", "before-context": "B", "context": "C", "regexp": "e",
         "max-count": "m", "include": "I", "exclude": "X", "no-messages": "s"}


async def _walk(inv, path: str, shown: str, out: list[tuple[str, str]]) -> None:
    st = await inv.fs.stat(path)
    if not st.is_dir:
        out.append((path, shown))
        return
    for name in await inv.fs.readdir(path):
        await inv.tick()
        child = path.rstrip("/") + "/" + name
        await _walk(inv, child, shown.rstrip("/") + "/" + name if shown else name, out)


async def run(inv) -> int:
    args = [a if not re.fullmatch(r"-\d+", a) else "-C" + a[1:] for a in inv.args]
    opts, rest = parse_flags(args, "ivnclLoqwxrREFhHsyPU", with_value="ABCemIXf", long=_LONG)
    patterns = list(opts.get("e*", []))
    if not patterns:
        if not rest:
            await inv.error("usage: grep [OPTION]... PATTERNS [FILE]...")
            return 2
        patterns = [rest.pop(0)]
    patterns = [p for pat in patterns for p in pat.split("\n")]
    extended = bool(opts.get("E")) or inv.name == "egrep"
    fixed = bool(opts.get("F")) or inv.name == "fgrep"
    icase = bool(opts.get("i") or opts.get("y"))
    try:
        bodies = []
        for p in patterns:
            rx = compile_posix(p, extended=extended, fixed=fixed, ignore_case=icase)
            bodies.append(rx.pattern)
        body = "|".join(f"(?:{b})" for b in bodies)
        if opts.get("w"):
            body = rf"(?<![A-Za-z0-9_])(?:{body})(?![A-Za-z0-9_])"
        if opts.get("x"):
            body = rf"^(?:{body})$"
        regex = compile_user_regex(body, re.IGNORECASE if icase else 0)
    except (ValueError, re.error) as exc:
        await inv.error(str(exc))
        return 2
    recursive = opts.get("r") or opts.get("R")
    files = rest or (["."] if recursive else ["-"])
    targets: list[tuple[str, str]] = []
    status_err = False
    for name in files:
        if name == "-":
            targets.append(("-", "(standard input)"))
            continue
        path = inv.path(name)
        try:
            st = await inv.fs.stat(path)
        except VfsError as exc:
            if not opts.get("s"):
                await inv.error(f"{name}: {exc.detail}")
            status_err = True
            continue
        if st.is_dir:
            if not recursive:
                await inv.error(f"{name}: Is a directory")
                continue
            found: list[tuple[str, str]] = []
            await _walk(inv, path, name if rest else "", found)
            targets.extend(found)
        else:
            targets.append((path, name))
    if "I" in opts:
        from mirage.workspace.shell.patterns import glob_match
        targets = [t for t in targets if t[0] == "-" or glob_match(opts["I"], t[1].rsplit("/", 1)[-1])]
    show_names = (len(files) > 1 or recursive) and not opts.get("h") or opts.get("H")
    after = int(opts.get("A", opts.get("C", 0)))
    before = int(opts.get("B", opts.get("C", 0)))
    max_count = int(opts["m"]) if "m" in opts else None
    invert = bool(opts.get("v"))
    any_match = False
    for path, shown in targets:
        data = await inv.stdin.read_all(limit=inv.interp.file_budget.limit) if path == "-" else await inv.fs.read(path)
        text = dec(data)
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        count = 0
        last_printed = -1
        pending_after = 0
        prefix = f"{shown}" if show_names else ""
        out: list[str] = []
        printed_any_group = False
        for i, line in enumerate(lines):
            await inv.tick()
            if max_count is not None and count >= max_count:
                if pending_after and not invert:
                    pass
                break
            matched = bool(regex.search(line)) != invert
            if matched:
                count += 1
                if opts.get("q"):
                    return 0
                if opts.get("l") or opts.get("L") or opts.get("c"):
                    continue
                if (before or after) and printed_any_group and i - before > last_printed + 1:
                    out.append("--")
                for j in range(max(last_printed + 1, i - before), i):
                    out.append(_fmt(prefix, "-", j + 1, lines[j], opts))
                if opts.get("o") and not invert:
                    for m in regex.finditer(line):
                        if m.group(0):
                            out.append(_fmt(prefix, ":", i + 1, m.group(0), opts))
                else:
                    out.append(_fmt(prefix, ":", i + 1, line, opts))
                last_printed = i
                pending_after = after
                printed_any_group = True
            elif pending_after:
                out.append(_fmt(prefix, "-", i + 1, line, opts))
                last_printed = i
                pending_after -= 1
        if max_count is not None and count >= max_count and pending_after:
            for j in range(last_printed + 1, min(len(lines), last_printed + 1 + pending_after)):
                if bool(regex.search(lines[j])) != invert:
                    break
                out.append(_fmt(prefix, "-", j + 1, lines[j], opts))
        if count:
            any_match = True
        if opts.get("l"):
            if count:
                await inv.out(enc(shown + "\n"))
            continue
        if opts.get("L"):
            if not count:
                await inv.out(enc(shown + "\n"))
            continue
        if opts.get("c"):
            await inv.out(enc((f"{shown}:" if show_names else "") + f"{count}\n"))
            continue
        if out:
            await inv.out(enc("\n".join(out) + "\n"))
    if status_err and not (opts.get("q") and any_match):
        return 2
    return 0 if any_match else 1


def _fmt(prefix: str, sep: str, number: int, text: str, opts) -> str:
    parts = []
    if prefix:
        parts.append(prefix + sep)
    if opts.get("n"):
        parts.append(f"{number}{sep}")
    return "".join(parts) + text
