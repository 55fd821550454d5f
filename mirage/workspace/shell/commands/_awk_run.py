"""Evaluating a parsed awk program over input records."""

from __future__ import annotations

import math
import random
import re

from mirage.workspace.shell.commands._awk_lang import AwkError
from mirage.workspace.shell.patterns import compile_user_regex, posix_regex, tabs_escaped

_NUMERIC = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*")
_LEADING = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class StrNum(str):
    """Input-derived strings (fields, -v values) that compare numerically when they look numeric."""


class Next(Exception):
    pass


class Exit(Exception):
    def __init__(self, status: int):
        self.status = status


class Return(Exception):
    def __init__(self, value):
        self.value = value


class Break(Exception):
    pass


class Continue(Exception):
    pass


def to_num(value) -> float:
    if isinstance(value, float):
        return value
    if isinstance(value, (int, bool)):
        return float(value)
    m = _LEADING.match(value)
    if not m:
        return 0.0
    try:
        return float(m.group(0))
    except ValueError:
        return 0.0


def fmt_num(value: float, fmt: str = "%.6g") -> str:
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    if math.isnan(value):
        return "nan" if math.copysign(1, value) > 0 else "-nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return fmt % value


def to_str(value, fmt: str = "%.6g") -> str:
    if isinstance(value, float):
        return fmt_num(value, fmt)
    return value


def looks_numeric(value) -> bool:
    return isinstance(value, float) or (isinstance(value, StrNum) and bool(_NUMERIC.fullmatch(value)))


def to_bool(value) -> bool:
    if isinstance(value, float):
        return value != 0
    if isinstance(value, StrNum) and _NUMERIC.fullmatch(value):
        return to_num(value) != 0
    return value != ""


class Runtime:
    def __init__(self, inv, items, functions, assigns: dict[str, str]):
        self.inv = inv
        self.items = items
        self.functions = functions
        self.vars: dict[str, object] = {
            "FS": " ", "OFS": " ", "ORS": "\n", "RS": "\n", "NR": 0.0, "NF": 0.0, "FNR": 0.0,
            "SUBSEP": "\x1c", "RSTART": 0.0, "RLENGTH": -1.0, "FILENAME": "", "CONVFMT": "%.6g",
            "OFMT": "%.6g",
        }
        self.arrays: dict[str, dict[str, object]] = {
            "ENVIRON": {k: StrNum(v) for k, v in inv.state.environ().items()}}
        for name, value in assigns.items():
            self.vars[name] = StrNum(value)
        self.record = ""
        self.fields: list[str] = []
        self.out: list[str] = []
        self.files: dict[str, list[str]] = {}
        self.regex_cache: dict[str, re.Pattern] = {}
        self.locals: list[dict[str, object]] = []
        self.steps = 0
        self.rand = random.Random(0)

    # -- records and fields
    def set_record(self, text: str) -> None:
        self.record = text
        self.fields = self.split_fields(text)
        self.vars["NF"] = float(len(self.fields))

    def split_fields(self, text: str, fs=None) -> list[str]:
        fs = to_str(self.vars["FS"]) if fs is None else fs
        if fs == " ":
            return text.split()
        if text == "":
            return []
        if fs == "":
            return list(text)
        if len(fs) == 1 and fs != "\\":
            if fs == "\t" or not fs.isalnum() and fs not in ".[]()*+?^$|{}":
                return text.split(fs)
            if fs.isalnum():
                return text.split(fs)
        return self.regex(fs).split(text)

    def get_field(self, index: int) -> str:
        if index < 0:
            raise AwkError(f"trying to access out of range field {index}")
        if index == 0:
            return StrNum(self.record)
        if index <= len(self.fields):
            return StrNum(self.fields[index - 1])
        return StrNum("")

    def set_field(self, index: int, value: str) -> None:
        if index == 0:
            self.set_record(value)
            return
        while len(self.fields) < index:
            self.fields.append("")
        self.fields[index - 1] = value
        self.vars["NF"] = float(len(self.fields))
        self.rebuild()

    def rebuild(self) -> None:
        self.record = to_str(self.vars["OFS"]).join(self.fields)

    def set_nf(self, n: int) -> None:
        n = max(0, n)
        self.fields = (self.fields + [""] * n)[:n]
        self.vars["NF"] = float(n)
        self.rebuild()

    def regex(self, source: str) -> re.Pattern:
        rx = self.regex_cache.get(source)
        if rx is None:
            try:
                rx = compile_user_regex(posix_regex(tabs_escaped(source), True))
            except re.error as exc:
                raise AwkError(f"invalid regex /{source}/: {exc}") from None
            self.regex_cache[source] = rx
        return rx

    # -- variables
    def get_var(self, name: str):
        if self.locals and name in self.locals[-1]:
            value = self.locals[-1][name]
            return value if not isinstance(value, dict) else ""
        if name == "NF":
            return self.vars["NF"]
        return self.vars.get(name, "")

    def set_var(self, name: str, value) -> None:
        if self.locals and name in self.locals[-1]:
            self.locals[-1][name] = value
            return
        if name == "NF":
            self.set_nf(int(to_num(value)))
            return
        self.vars[name] = value

    def array(self, name: str) -> dict:
        if self.locals and name in self.locals[-1]:
            value = self.locals[-1][name]
            if not isinstance(value, dict):
                value = {}
                self.locals[-1][name] = value
            return value
        return self.arrays.setdefault(name, {})

    async def key(self, subs) -> str:
        convfmt = to_str(self.vars["CONVFMT"])
        return to_str(self.vars["SUBSEP"]).join([to_str(await self.eval(s), convfmt) for s in subs])

    # -- statements
    async def run_block(self, node) -> None:
        for stmt in node[1]:
            await self.execute(stmt)

    async def execute(self, node) -> None:
        self.steps += 1
        if self.steps & 63 == 0:
            await self.inv.tick()
        kind = node[0]
        if kind == "block":
            for stmt in node[1]:
                await self.execute(stmt)
        elif kind == "expr":
            await self.eval(node[1])
        elif kind in ("print", "printf"):
            await self.print_stmt(node)
        elif kind == "if":
            if to_bool(await self.eval(node[1])):
                await self.execute(node[2])
            elif node[3] is not None:
                await self.execute(node[3])
        elif kind == "while":
            while to_bool(await self.eval(node[1])):
                try:
                    await self.execute(node[2])
                except Break:
                    break
                except Continue:
                    continue
        elif kind == "do":
            while True:
                try:
                    await self.execute(node[1])
                except Break:
                    break
                except Continue:
                    pass
                if not to_bool(await self.eval(node[2])):
                    break
        elif kind == "for":
            _, init, cond, step, body = node
            if init is not None:
                await self.execute(init)
            while cond is None or to_bool(await self.eval(cond)):
                try:
                    await self.execute(body)
                except Break:
                    break
                except Continue:
                    pass
                if step is not None:
                    await self.execute(step)
        elif kind == "forin":
            _, var, arr, body = node
            for key in list(self.array(arr).keys()):
                self.set_var(var, StrNum(key))
                try:
                    await self.execute(body)
                except Break:
                    break
                except Continue:
                    continue
        elif kind == "break":
            raise Break()
        elif kind == "continue":
            raise Continue()
        elif kind in ("next", "nextfile"):
            raise Next()
        elif kind == "exit":
            raise Exit(int(to_num(await self.eval(node[1]))) if node[1] is not None else 0)
        elif kind == "return":
            raise Return(await self.eval(node[1]) if node[1] is not None else "")
        elif kind == "delete":
            arr = self.array(node[1])
            if node[2] is None:
                arr.clear()
            else:
                arr.pop(await self.key(node[2]), None)
        else:
            raise AwkError(f"unknown statement {kind}")

    async def print_stmt(self, node) -> None:
        kind, args, dest = node
        ofmt = to_str(self.vars["OFMT"])
        if kind == "print":
            if not args:
                text = self.record
            else:
                text = to_str(self.vars["OFS"]).join(
                    [to_str(await self.eval(a), ofmt) for a in args])
            text += to_str(self.vars["ORS"])
        else:
            if not args:
                raise AwkError("printf: no format")
            values = [await self.eval(a) for a in args]
            text = self.sprintf(to_str(values[0]), values[1:])
        if dest is None:
            self.out.append(text)
            if len(self.out) >= 256:
                await self.flush()
            return
        mode, target = dest
        name = to_str(await self.eval(target))
        if name == "/dev/stdout" or name == "-":
            self.out.append(text)
            return
        if name == "/dev/stderr":
            await self.inv.stderr.write(text.encode("utf-8", "surrogateescape"))
            return
        if name not in self.files:
            self.files[name] = []
            if mode == ">":
                await self.inv.fs.write(self.inv.path(name), b"")
        self.files[name].append(text)

    async def flush(self) -> None:
        if self.out:
            await self.inv.out("".join(self.out).encode("utf-8", "surrogateescape"))
            self.out.clear()

    async def close_files(self) -> None:
        for name, chunks in self.files.items():
            await self.inv.fs.write(self.inv.path(name),
                                    "".join(chunks).encode("utf-8", "surrogateescape"), append=True)
        self.files.clear()

    # -- expressions
    async def eval(self, node):
        kind = node[0]
        if kind == "const":
            return node[1]
        if kind == "var":
            return self.get_var(node[1])
        if kind == "field":
            return self.get_field(int(to_num(await self.eval(node[1]))))
        if kind == "index":
            arr = self.array(node[1])
            key = await self.key(node[2])
            if key not in arr:
                arr[key] = ""
            return arr[key]
        if kind == "group":
            return await self.eval(node[1])
        if kind == "regex":
            return 1.0 if self.regex(node[1]).search(self.record) else 0.0
        if kind == "assign":
            _, op, target, value_node = node
            value = await self.eval(value_node)
            if op != "=":
                current = to_num(await self.eval(target))
                value = self.arith(op[:-1] if op != "**=" else "^", current, to_num(value))
            elif isinstance(value, StrNum):
                value = StrNum(value)
            await self.assign(target, value)
            return value
        if kind == "cond":
            return await self.eval(node[2]) if to_bool(await self.eval(node[1])) else await self.eval(node[3])
        if kind == "or":
            return 1.0 if to_bool(await self.eval(node[1])) or to_bool(await self.eval(node[2])) else 0.0
        if kind == "and":
            return 1.0 if to_bool(await self.eval(node[1])) and to_bool(await self.eval(node[2])) else 0.0
        if kind == "in":
            key = to_str(self.vars["SUBSEP"]).join([to_str(await self.eval(s)) for s in node[1]])
            return 1.0 if key in self.array(node[2]) else 0.0
        if kind == "match":
            _, negate, left, right = node
            text = to_str(await self.eval(left))
            pattern = right[1] if right[0] == "regex" else to_str(await self.eval(right))
            found = self.regex(pattern).search(text) is not None
            return 1.0 if found != negate else 0.0
        if kind == "cmp":
            _, op, left, right = node
            a, b = await self.eval(left), await self.eval(right)
            if looks_numeric(a) and looks_numeric(b):
                x, y = to_num(a), to_num(b)
            else:
                x, y = to_str(a, to_str(self.vars["CONVFMT"])), to_str(b, to_str(self.vars["CONVFMT"]))
            result = {"<": x < y, "<=": x <= y, "==": x == y, "!=": x != y, ">=": x >= y,
                      ">": x > y}[op]
            return 1.0 if result else 0.0
        if kind == "concat":
            fmt = to_str(self.vars["CONVFMT"])
            return to_str(await self.eval(node[1]), fmt) + to_str(await self.eval(node[2]), fmt)
        if kind == "bin":
            return self.arith(node[1], to_num(await self.eval(node[2])), to_num(await self.eval(node[3])))
        if kind == "not":
            return 0.0 if to_bool(await self.eval(node[1])) else 1.0
        if kind == "neg":
            return -to_num(await self.eval(node[1]))
        if kind == "num":
            return to_num(await self.eval(node[1]))
        if kind == "preinc":
            value = to_num(await self.eval(node[2])) + (1 if node[1] == "++" else -1)
            await self.assign(node[2], value)
            return value
        if kind == "postinc":
            value = to_num(await self.eval(node[2]))
            await self.assign(node[2], value + (1 if node[1] == "++" else -1))
            return value
        if kind == "builtin":
            return await self.builtin(node[1], node[2])
        if kind == "call":
            return await self.call(node[1], node[2])
        raise AwkError(f"unknown expression {kind}")

    async def assign(self, target, value) -> None:
        kind = target[0]
        if kind == "var":
            self.set_var(target[1], value)
        elif kind == "field":
            self.set_field(int(to_num(await self.eval(target[1]))), to_str(value))
        elif kind == "index":
            self.array(target[1])[await self.key(target[2])] = value
        elif kind == "group":
            await self.assign(target[1], value)
        else:
            raise AwkError("assignment to a non-variable")

    def arith(self, op: str, a: float, b: float) -> float:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                raise AwkError("division by zero")
            return a / b
        if op == "%":
            if b == 0:
                raise AwkError("division by zero in %")
            return math.fmod(a, b)
        if op == "^":
            try:
                return float(a ** b)
            except (OverflowError, ZeroDivisionError):
                return math.inf
        raise AwkError(f"unknown operator {op}")

    async def call(self, name: str, args):
        if name not in self.functions:
            raise AwkError(f"calling undefined function {name}")
        params, body = self.functions[name]
        if len(args) > len(params):
            raise AwkError(f"function {name} called with {len(args)} args, accepts only {len(params)}")
        frame: dict[str, object] = {}
        for i, param in enumerate(params):
            if i < len(args):
                arg = args[i]
                if arg[0] == "var" and (arg[1] in self.arrays or (
                        self.locals and isinstance(self.locals[-1].get(arg[1]), dict))):
                    frame[param] = self.array(arg[1])
                else:
                    frame[param] = await self.eval(arg)
            else:
                frame[param] = ""
        if len(self.locals) > 200:
            raise AwkError("function call nesting too deep")
        self.locals.append(frame)
        try:
            await self.execute(body)
        except Return as ret:
            return ret.value
        finally:
            self.locals.pop()
        return ""

    async def builtin(self, name: str, args):
        ev = [await self.eval(a) for a in args] if name not in ("split", "sub", "gsub", "match") else None
        if name == "length":
            if not args:
                return float(len(self.record))
            if args[0][0] == "var" and (args[0][1] in self.arrays):
                return float(len(self.arrays[args[0][1]]))
            return float(len(to_str(ev[0])))
        if name == "substr":
            s = to_str(ev[0])
            start = to_num(ev[1])
            start_r = math.floor(start + 0.5) if start >= 0 else math.ceil(start - 0.5)
            if len(ev) > 2:
                length = to_num(ev[2])
                end = start_r + (math.floor(length + 0.5))
            else:
                end = len(s) + 1
            if start_r < 1:           # gawk: a start before 1 counts as 1, the length stays
                end += 1 - start_r
                start_r = 1
            lo = start_r
            hi = min(end, len(s) + 1)
            return s[lo - 1:hi - 1] if hi > lo else ""
        if name == "index":
            return float(to_str(ev[0]).find(to_str(ev[1])) + 1)
        if name == "split":
            text = to_str(await self.eval(args[0]))
            arr_name = args[1][1]
            if len(args) > 2:
                sep_node = args[2]
                sep = sep_node[1] if sep_node[0] == "regex" else to_str(await self.eval(sep_node))
                parts = self.split_fields(text, sep) if sep != " " else text.split()
            else:
                parts = self.split_fields(text)
            arr = self.array(arr_name)
            arr.clear()
            for i, part in enumerate(parts, 1):
                arr[str(i)] = StrNum(part)
            return float(len(parts))
        if name in ("sub", "gsub"):
            pat_node = args[0]
            pattern = pat_node[1] if pat_node[0] == "regex" else to_str(await self.eval(pat_node))
            repl = to_str(await self.eval(args[1]))
            target = args[2] if len(args) > 2 else ("field", ("const", 0.0))
            text = to_str(await self.eval(target))
            rx = self.regex(pattern)
            count = 0

            def expand(m):
                nonlocal count
                count += 1
                out = []
                i = 0
                while i < len(repl):
                    c = repl[i]
                    if c == "\\" and i + 1 < len(repl) and repl[i + 1] in "&\\":
                        out.append(repl[i + 1])
                        i += 2
                        continue
                    out.append(m.group(0) if c == "&" else c)
                    i += 1
                return "".join(out)
            result = rx.sub(expand, text, count=1 if name == "sub" else 0)
            if count:
                await self.assign(target, result)
            return float(count)
        if name == "match":
            text = to_str(await self.eval(args[0]))
            pat_node = args[1]
            pattern = pat_node[1] if pat_node[0] == "regex" else to_str(await self.eval(pat_node))
            m = self.regex(pattern).search(text)
            if m:
                self.vars["RSTART"] = float(m.start() + 1)
                self.vars["RLENGTH"] = float(m.end() - m.start())
                if len(args) > 2:
                    arr = self.array(args[2][1])
                    arr.clear()
                    arr["0"] = m.group(0)
                    for i, g in enumerate(m.groups(), 1):
                        arr[str(i)] = g or ""
                return float(m.start() + 1)
            self.vars["RSTART"] = 0.0
            self.vars["RLENGTH"] = -1.0
            return 0.0
        if name == "sprintf":
            return self.sprintf(to_str(ev[0]), ev[1:]) if ev else ""
        if name == "tolower":
            return to_str(ev[0]).lower()
        if name == "toupper":
            return to_str(ev[0]).upper()
        if name == "int":
            return float(math.trunc(to_num(ev[0])))
        if name == "sqrt":
            x = to_num(ev[0])
            return math.sqrt(x) if x >= 0 else math.nan
        if name == "exp":
            return math.exp(to_num(ev[0]))
        if name == "log":
            x = to_num(ev[0])
            return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)
        if name == "sin":
            return math.sin(to_num(ev[0]))
        if name == "cos":
            return math.cos(to_num(ev[0]))
        if name == "atan2":
            return math.atan2(to_num(ev[0]), to_num(ev[1]))
        if name == "rand":
            return self.rand.random()
        if name == "srand":
            self.rand.seed(to_num(ev[0]) if ev else 0)
            return 0.0
        if name == "system":
            raise AwkError("system() is not available in the workspace shell")
        if name in ("close", "fflush"):
            return 0.0
        raise AwkError(f"unknown function {name}")

    def sprintf(self, fmt: str, values) -> str:
        out = []
        idx = 0
        for m in re.finditer(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([cdiouxXeEfFgGs%])|([^%]+|%)", fmt):
            if m.group(5) is not None:
                out.append(m.group(5))
                continue
            flags, width, prec, conv = m.group(1), m.group(2), m.group(3), m.group(4)
            if conv == "%":
                out.append("%")
                continue
            if width == "*":
                width = str(int(to_num(values[idx]))) if idx < len(values) else "0"
                idx += 1
            if prec == "*":
                prec = str(int(to_num(values[idx]))) if idx < len(values) else "0"
                idx += 1
            value = values[idx] if idx < len(values) else ""
            idx += 1
            spec = "%" + flags + (width or "") + ("." + prec if prec is not None else "")
            if conv in "di":
                out.append((spec + "d") % int(to_num(value)))
            elif conv in "ouxX":
                out.append((spec + conv) % int(to_num(value)))
            elif conv in "eEfFgG":
                out.append((spec + conv) % to_num(value))
            elif conv == "c":
                if isinstance(value, float):
                    out.append((spec + "s") % chr(int(value)))
                else:
                    out.append((spec + "s") % to_str(value)[:1])
            else:
                out.append((spec + "s") % to_str(value))
        return "".join(out)
