"""find [PATH]... [-name P] [-iname P] [-type f|d] [-maxdepth N] [-mindepth N] [-path P]
[-size [+-]N[ckMG]] [-empty] [-newer] [! / -not] [-o] [-print] [-delete]"""

from __future__ import annotations

import re

from mirage.workspace.shell.commands._base import Usage
from mirage.workspace.shell.errors import CommandError
from mirage.workspace.shell.commands._fsutil import remove_tree, walk
from mirage.workspace.shell.patterns import glob_match
from mirage.workspace.vfs.base import VfsError

NAMES = ("find",)


def _parse(tokens: list[str]):
    """Expression → nested tuples: ('or', a, b) ('and', a, b) ('not', a) ('test', name, arg)."""
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def primary():
        nonlocal pos
        tok = peek()
        if tok is None:
            raise Usage("expected an expression")
        pos += 1
        if tok in ("!", "-not"):
            return ("not", primary())
        if tok == "(":
            expr = or_()
            if peek() != ")":
                raise Usage("missing ')'")
            pos += 1
            return expr
        if tok in ("-name", "-iname", "-type", "-path", "-wholename", "-ipath", "-size",
                   "-newer", "-regex", "-perm"):
            if pos >= len(tokens):
                raise Usage(f"missing argument to '{tok}'")
            pos += 1
            return ("test", tok, tokens[pos - 1])
        if tok in ("-empty", "-print", "-delete", "-true", "-false", "-print0"):
            return ("test", tok, None)
        if tok == "-exec":
            argv = []
            while pos < len(tokens) and tokens[pos] not in (";", "+"):
                argv.append(tokens[pos])
                pos += 1
            if pos >= len(tokens) or not argv:
                raise Usage("missing argument to '-exec'")
            terminator = tokens[pos]
            pos += 1
            return ("exec", argv, terminator)
        raise Usage(f"unknown predicate '{tok}'")

    def and_():
        nonlocal pos
        left = primary()
        while peek() not in (None, "-o", "-or", ")"):
            if peek() in ("-a", "-and"):
                pos += 1
            left = ("and", left, primary())
        return left

    def or_():
        nonlocal pos
        left = and_()
        while peek() in ("-o", "-or"):
            pos += 1
            left = ("or", left, and_())
        return left

    if not tokens:
        return None
    expr = or_()
    if pos != len(tokens):
        raise Usage(f"unexpected '{tokens[pos]}'")
    return expr


def _has_action(expr) -> bool:
    if expr is None:
        return False
    if expr[0] == "exec":
        return True
    if expr[0] == "test":
        return expr[1] in ("-print", "-delete", "-print0")
    return any(_has_action(e) for e in expr[1:] if isinstance(e, tuple) and e and
               isinstance(e[0], str))


async def run(inv) -> int:
    args = list(inv.args)
    roots: list[str] = []
    while args and not args[0].startswith("-") and args[0] not in ("!", "("):
        roots.append(args.pop(0))
    max_depth = min_depth = None
    rest: list[str] = []
    i = 0
    while i < len(args):
        if args[i] in ("-maxdepth", "-mindepth"):
            if i + 1 >= len(args) or not args[i + 1].isdigit():
                raise Usage(f"{args[i]}: expected a non-negative number")
            if args[i] == "-maxdepth":
                max_depth = int(args[i + 1])
            else:
                min_depth = int(args[i + 1])
            i += 2
            continue
        rest.append(args[i])
        i += 1
    expr = _parse(rest)
    printing = not _has_action(expr)
    status = 0
    out: list[str] = []
    to_delete: list[str] = []
    batch: list[str] = []
    for root in roots or ["."]:
        base = inv.path(root)
        try:
            async for path, st, depth in walk(inv, base, max_depth=max_depth):
                if min_depth is not None and depth < min_depth:
                    continue
                shown = root + path[len(base):] if base != "/" else (
                    root.rstrip("/") + path if path != "/" else root)
                ctx = {"out": out, "delete": to_delete, "path": path, "batch": batch}
                matched = await _eval(inv, expr, shown, path, st, ctx) if expr else True
                if matched and printing:
                    out.append(shown)
                if len(out) >= 256:
                    await inv.out("\n".join(out) + "\n")
                    out.clear()
        except VfsError as exc:
            await inv.error(f"'{root}': {exc.detail}")
            status = 1
    if out:
        await inv.out("\n".join(out) + "\n")
    if batch:
        status = max(status, await _exec(inv, _find_exec(expr, "+"), batch))
    for path in reversed(to_delete):
        try:
            await remove_tree(inv, path)
        except VfsError as exc:
            await inv.error(f"cannot delete '{path}': {exc.detail}")
            status = 1
    return status


def _find_exec(expr, terminator: str):
    if expr is None:
        return None
    if expr[0] == "exec" and expr[2] == terminator:
        return expr[1]
    for e in expr[1:]:
        if isinstance(e, tuple) and e and isinstance(e[0], str):
            found = _find_exec(e, terminator)
            if found:
                return found
    return None


async def _exec(inv, argv: list[str], names: list[str]) -> int:
    """-exec runs a workspace command ('{}' is the found path); never a host process."""
    from mirage.workspace.shell.io import IO

    if any(a == "{}" for a in argv):
        out: list[str] = []
        for a in argv:
            out.extend(names if a == "{}" else [a])
        command = out
    else:
        command = [a.replace("{}", names[0]) for a in argv] if len(names) == 1 else argv + names
    io = IO(inv.stdin, inv.stdout, inv.stderr)
    await inv.interp.tick()
    return await inv.interp.run_argv(command, inv.state.copy(), io)


async def _eval(inv, expr, shown: str, path: str, st, ctx) -> bool:
    kind = expr[0]
    if kind == "exec":
        if expr[2] == "+":
            ctx["batch"].append(shown)
            return True
        return await _exec(inv, expr[1], [shown]) == 0
    if kind == "and":
        return await _eval(inv, expr[1], shown, path, st, ctx) and \
            await _eval(inv, expr[2], shown, path, st, ctx)
    if kind == "or":
        return await _eval(inv, expr[1], shown, path, st, ctx) or \
            await _eval(inv, expr[2], shown, path, st, ctx)
    if kind == "not":
        return not await _eval(inv, expr[1], shown, path, st, ctx)
    _, test, arg = expr
    name = path.rsplit("/", 1)[-1] or "/"
    if test == "-name":
        return glob_match(arg, name)
    if test == "-iname":
        return glob_match(arg.lower(), name.lower())
    if test in ("-path", "-wholename"):
        return glob_match(arg, shown)
    if test == "-ipath":
        return glob_match(arg.lower(), shown.lower())
    if test == "-regex":
        return re.fullmatch(arg, shown) is not None
    if test == "-type":
        return {"f": st.is_file, "d": st.is_dir, "l": st.type == "symlink"}.get(arg, False)
    if test == "-empty":
        if st.is_dir:
            return not await inv.fs.readdir(path)
        return st.size == 0
    if test == "-size":
        m = re.fullmatch(r"([-+]?)(\d+)([ckMGb]?)", arg)
        if not m:
            raise Usage(f"invalid argument '{arg}' to '-size'")
        unit = {"c": 1, "k": 1024, "M": 1 << 20, "G": 1 << 30, "b": 512, "": 512}[m.group(3)]
        size = -(-st.size // unit)
        n = int(m.group(2))
        return size > n if m.group(1) == "+" else size < n if m.group(1) == "-" else size == n
    if test == "-print":
        ctx["out"].append(shown)
        return True
    if test == "-print0":
        ctx["out"].append(shown)
        return True
    if test == "-delete":
        ctx["delete"].append(path)
        return True
    if test == "-true":
        return True
    if test == "-false":
        return False
    if test == "-newer":
        try:
            other = await inv.fs.stat(inv.path(arg))
        except VfsError:
            raise CommandError(f"'{arg}': No such file or directory", 1) from None
        return st.mtime > other.mtime
    return False
