"""awk [-F FS] [-v VAR=VALUE]... 'PROGRAM' [FILE | VAR=VALUE]...  (see _awk_lang for the subset)."""

from __future__ import annotations

import re

from mirage.workspace.shell.commands._awk_lang import AwkError, Parser
from mirage.workspace.shell.commands._awk_run import Exit, Next, Runtime, StrNum, to_bool
from mirage.workspace.shell.commands._base import Usage, dec
from mirage.workspace.vfs.base import VfsError

NAMES = ("awk", "gawk", "mawk")


def _unescape_fs(fs: str) -> str:
    if fs == "t":
        return "\t"
    return fs.replace("\\t", "\t")


async def run(inv) -> int:
    args = list(inv.args)
    fs = None
    assigns: dict[str, str] = {}
    program = None
    while args:
        a = args[0]
        if a == "--":
            args.pop(0)
            break
        if a.startswith("-F"):
            args.pop(0)
            fs = a[2:] if len(a) > 2 else (args.pop(0) if args else None)
            if fs is None:
                raise Usage("option requires an argument -- F")
        elif a.startswith("-v"):
            args.pop(0)
            spec = a[2:] if len(a) > 2 else (args.pop(0) if args else "")
            name, eq, value = spec.partition("=")
            if not eq:
                raise Usage(f"invalid -v argument: {spec}")
            assigns[name] = _escape_value(value)
        elif a == "-f":
            args.pop(0)
            program = dec(await inv.read_file(args.pop(0)))
        elif a.startswith("-") and len(a) > 1:
            raise Usage(f"unknown option {a}")
        else:
            break
    if program is None:
        if not args:
            raise Usage("usage: awk [-F fs][-v var=value][prog | -f progfile][file ...]")
        program = args.pop(0)
    try:
        items, functions = Parser(program).program()
    except AwkError as exc:
        await inv.error(str(exc))
        return 2
    rt = Runtime(inv, items, functions, assigns)
    if fs is not None:
        rt.vars["FS"] = _unescape_fs(fs)
    status = 0
    exit_code = None
    try:
        try:
            for kind, _, action in items:
                if kind == "BEGIN":
                    await rt.run_block(action)
            mains = [it for it in items if it[0] == "MAIN"]
            has_end = any(it[0] == "END" for it in items)
            if mains or has_end:
                operands = args or ["-"]
                files = [a for a in operands if not re.match(r"[A-Za-z_][A-Za-z0-9_]*=", a)]
                if not files:
                    operands = operands + ["-"]
                for operand in operands:
                    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", operand, re.DOTALL)
                    if m:
                        rt.vars[m.group(1)] = StrNum(_escape_value(m.group(2)))
                        continue
                    try:
                        data = dec(await inv.read_file(operand))
                    except VfsError as exc:
                        await inv.error(f"cannot open \"{exc.path}\" ({exc.detail})")
                        status = 2
                        continue
                    rt.vars["FILENAME"] = "" if operand == "-" else operand
                    rt.vars["FNR"] = 0.0
                    for record in _records(data, rt.vars["RS"]):
                        rt.vars["NR"] = rt.vars["NR"] + 1 if isinstance(rt.vars["NR"], float) else \
                            float(rt.vars["NR"]) + 1
                        rt.vars["FNR"] = float(rt.vars["FNR"]) + 1
                        rt.set_record(record)
                        await inv.tick()
                        try:
                            for _, pattern, action in mains:
                                if await _pattern_matches(rt, pattern):
                                    if action is None:
                                        await rt.print_stmt(("print", [], None))
                                    else:
                                        await rt.run_block(action)
                        except Next:
                            continue
        except Exit as exc:
            exit_code = exc.status
        try:
            for kind, _, action in items:
                if kind == "END":
                    await rt.run_block(action)
        except Exit as exc:
            exit_code = exc.status
    except AwkError as exc:
        await rt.flush()
        await rt.close_files()
        await inv.error(str(exc))
        return 2
    await rt.flush()
    await rt.close_files()
    return exit_code if exit_code is not None else status


def _escape_value(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "\\": "\\"}.get(m.group(1), "\\" + m.group(1)),
                  value)


def _records(data: str, rs) -> list[str]:
    if rs == "":
        return [r for r in re.split(r"\n\n+", data.strip("\n")) if r] if data.strip("\n") else []
    sep = rs if isinstance(rs, str) else "\n"
    if not data:
        return []
    parts = data.split(sep[:1] or "\n")
    if parts and parts[-1] == "":
        parts.pop()
    return parts


async def _pattern_matches(rt: Runtime, pattern) -> bool:
    if pattern is None:
        return True
    if pattern[0] == "range":
        _, start, end, state = pattern
        if not state[0]:
            if to_bool(await rt.eval(start)):
                state[0] = not to_bool(await rt.eval(end))
                return True
            return False
        if to_bool(await rt.eval(end)):
            state[0] = False
        return True
    return to_bool(await rt.eval(pattern))
