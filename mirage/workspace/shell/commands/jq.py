"""jq [-r] [-c] [-n] [-s] [-e] [-j] [-S] [--arg N V] [--argjson N J] FILTER [FILE]...

Runs filters with the ``jq`` package (libjq in-process). The filter cannot reach the
host: ``$ENV``/``env`` are replaced by the workspace's exported variables, modules
(``import``/``include``) are refused, and ``input_filename`` names workspace files only.
"""

from __future__ import annotations

import json
import re

import jq as jqlib

from mirage.workspace.shell.commands._base import Usage, dec

NAMES = ("jq",)

_MODULES = re.compile(r"(?<![A-Za-z0-9_$])(import|include|modulemeta|get_search_list|"
                      r"input_filename|\$__prog_name|halt_error|debug|stderr|input_line_number)"
                      r"(?![A-Za-z0-9_])")


def _dump(value, compact: bool, raw: bool, sort_keys: bool, tab: bool, indent: int) -> str:
    if raw and isinstance(value, str):
        return value
    if compact:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    text = json.dumps(value, indent="\t" if tab else indent, ensure_ascii=False,
                      sort_keys=sort_keys)
    return text


async def run(inv) -> int:
    args = list(inv.args)
    raw = compact = null_input = slurp = exit_status = join = sort_keys = tab = raw_input = False
    indent = 2
    named: dict[str, object] = {}
    operands: list[str] = []
    while args:
        a = args.pop(0)
        if a == "--":
            operands.extend(args)
            break
        if not a.startswith("-") or len(a) == 1:
            operands.append(a)
            continue
        if a in ("--arg", "--argjson"):
            if len(args) < 2:
                raise Usage(f"{a} takes two parameters (e.g. {a} varname value)")
            name, value = args.pop(0), args.pop(0)
            if a == "--arg":
                named[name] = value
            else:
                try:
                    named[name] = json.loads(value)
                except ValueError:
                    raise Usage("invalid JSON text passed to --argjson") from None
            continue
        if a == "--indent":
            indent = int(args.pop(0))
            continue
        long = {"--raw-output": "r", "--compact-output": "c", "--null-input": "n",
                "--slurp": "s", "--exit-status": "e", "--join-output": "j", "--sort-keys": "S",
                "--tab": "T", "--raw-input": "R"}
        letters = long.get(a) or (a[1:] if not a.startswith("--") else None)
        if letters is None:
            raise Usage(f"Unknown option: {a}")
        for c in letters:
            if c == "r":
                raw = True
            elif c == "c":
                compact = True
            elif c == "n":
                null_input = True
            elif c == "s":
                slurp = True
            elif c == "e":
                exit_status = True
            elif c == "j":
                raw = join = True
            elif c == "S":
                sort_keys = True
            elif c == "T":
                tab = True
            elif c == "R":
                raw_input = True
            elif c == "M" or c == "C" or c == "a":
                pass
            else:
                raise Usage(f"Unknown option: -{c}")
    if not operands:
        raise Usage("usage: jq [OPTIONS] FILTER [FILES...]")
    program = operands.pop(0)
    files = operands
    if _MODULES.search(program):
        await inv.error("error: modules, debug/stderr output and input metadata are not "
                        "available in the workspace shell")
        return 3
    env_json = json.dumps(inv.state.environ())
    wrapped = f"def env: {env_json}; {env_json} as $ENV | {program}"
    try:
        compiled = jqlib.compile(wrapped, args=named)
    except ValueError as exc:
        await inv.error(f"error: {_clean(str(exc))}")
        return 3
    inputs, status = await inv.read_inputs(files)
    if status:
        return 2
    text = "".join(dec(d) for _, d in inputs)
    try:
        if raw_input:
            lines = text.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            values = [text] if slurp else lines
        else:
            values = list(_parse_stream(text))
            if slurp:
                values = [values]
        if null_input:
            values = [None]
        results = []
        for value in values:
            await inv.tick()
            results.extend(compiled.input_value(value).all())
    except ValueError as exc:
        message = _clean(str(exc))
        await inv.error(f"error (at <stdin>:0): {message}" if "parse" not in message.lower()
                        else message)
        return 5 if "parse" not in message.lower() else 2
    out = []
    for value in results:
        out.append(_dump(value, compact, raw, sort_keys, tab, indent) + ("" if join else "\n"))
    await inv.out("".join(out))
    if exit_status:
        if not results:
            return 4
        return 1 if results[-1] in (None, False) else 0
    return 0


def _parse_stream(text: str):
    decoder = json.JSONDecoder()
    pos = 0
    n = len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            return
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ValueError(f"jq: error (at <stdin>:{exc.lineno}): Cannot parse JSON: {exc.msg}") from None
        yield value


def _clean(message: str) -> str:
    return message.replace("jq: error: ", "").strip()
