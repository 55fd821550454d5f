"""Word expansion: parameters, command substitution, arithmetic, quoting, field
splitting and globbing against the workspace filesystem.

A word expands to *fields*; each field is a list of ``(text, quoted)`` segments
until the very end, so globbing knows which characters were quoted.
"""

from __future__ import annotations

import errno
import random
import re

from mirage.workspace.shell import arith
from mirage.workspace.shell.commands._base import byte_char
from mirage.workspace.shell.errors import CommandError
from mirage.workspace.shell.patterns import compile_glob, escape_glob, has_glob, unescape_glob
from mirage.workspace.shell.state import ShellState
from mirage.workspace.vfs.base import VfsError

Seg = tuple[str, bool]
BIG_VALUE = 1 << 16          # longer substitution results are split in slices
_SPECIAL_WORD = re.compile(rb"[\\*?\[~{$`'\"]")   # a word without these is taken as is

WORD_TYPES = frozenset({
    "word", "string", "raw_string", "ansi_c_string", "concatenation", "simple_expansion",
    "expansion", "command_substitution", "arithmetic_expansion", "number", "brace_expression",
    "extglob_pattern", "regex", "variable_name", "special_variable_name", "test_operator",
    "string_content",
})
_EXPANSIONS = frozenset({"simple_expansion", "expansion", "command_substitution",
                         "arithmetic_expansion"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!\-0]")
_ANSI = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b",
         "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def text_of(node) -> str:
    return node.text.decode("utf-8", "surrogateescape")


class Fields:
    """Accumulates segments into fields, splitting unquoted expansion results."""

    def __init__(self, ifs: str | None = None) -> None:
        self.fields: list[list[Seg]] = []
        self.cur: list[Seg] | None = None
        self.broken = False
        self.ifs = " \t\n" if ifs is None else ifs

    def _ensure(self) -> list[Seg]:
        if self.cur is None or self.broken:
            self.cur = []
            self.fields.append(self.cur)
            self.broken = False
        return self.cur

    def add(self, text: str, quoted: bool) -> None:
        self._ensure().append((text, quoted))

    def brk(self) -> None:
        if self.cur is not None:
            self.broken = True

    def add_split(self, text: str) -> None:
        if not text:
            return
        if not self.ifs:
            self.add(text, False)
            return
        ws = "".join(c for c in self.ifs if c in " \t\n")
        other = "".join(c for c in self.ifs if c not in " \t\n")
        if ws and not other:                # the common case, done in bulk (long outputs)
            lead, trail = text[0] in ws, text[-1] in ws
            body = text.strip(ws)
            if lead:
                self.brk()
            if body:
                pieces = re.split(f"[{re.escape(ws)}]+", body)
                self.add(pieces[0], False)
                if len(pieces) > 1:
                    new = [[(piece, False)] for piece in pieces[1:]]
                    self.fields.extend(new)
                    self.cur, self.broken = new[-1], False
            if trail:
                self.brk()
            return
        ws_re = f"[{re.escape(ws)}]" if ws else None
        if other:
            sep = f"(?:{ws_re}*[{re.escape(other)}]{ws_re}*|{ws_re}+)" if ws_re else f"[{re.escape(other)}]"
        else:
            sep = f"{ws_re}+"
        lead = bool(ws) and text[0] in ws
        trail = bool(ws) and text[-1] in ws
        body = text.strip(ws) if ws else text
        if lead:
            self.brk()
        if body:
            pieces = re.split(sep, body)
            for i, piece in enumerate(pieces):
                if i:
                    self.brk()
                    self._ensure()
                if piece:
                    self.add(piece, False)
                elif i and other:
                    self._ensure()
        if trail:
            self.brk()


def segs_text(segs: list[Seg]) -> str:
    return "".join(t for t, _ in segs)


def segs_pattern(segs: list[Seg]) -> str:
    """A glob pattern where quoted characters are escaped."""
    return "".join(escape_glob(t) if q else t for t, q in segs)


class ExpansionMixin:
    """Mixed into the Interpreter (which provides ``fs``, ``run_capture``...)."""

    # ------------------------------------------------------------ entry points
    async def expand_words(self, nodes, state: ShellState) -> list[str]:
        """Full expansion (splitting + globbing) of argument nodes into fields."""
        out: list[str] = []
        for node in nodes:
            if node.type == "word" and not _SPECIAL_WORD.search(node.text):
                out.append(node.text.decode("utf-8", "surrogateescape"))      # plain word
                continue
            for text in await self._brace_variants(node):
                if isinstance(text, str):
                    sub_nodes = self._reparse_words(text)
                    for sub in sub_nodes:
                        out.extend(await self._expand_one(sub, state))
                else:
                    out.extend(await self._expand_one(node, state))
        return out

    async def _expand_one(self, node, state: ShellState) -> list[str]:
        fields = Fields(state.get("IFS"))
        await self._expand_into(node, state, fields, quoted=False)
        result: list[str] = []
        for segs in fields.fields:
            await self.tick()
            if any(not q and has_glob(t) for t, q in segs):
                matches = await self.glob(segs_pattern(segs), state)
                if matches:
                    result.extend(matches)
                    continue
            result.append(segs_text(segs))
        return result

    async def expand_string(self, node, state: ShellState) -> str:
        """Expansion without splitting or globbing (assignments, redirect targets)."""
        return segs_text(await self.expand_segments(node, state))

    async def expand_segments(self, node, state: ShellState, quoted: bool = False) -> list[Seg]:
        fields = Fields("")
        await self._expand_into(node, state, fields, quoted=quoted, no_split=True)
        segs: list[Seg] = []
        for i, field in enumerate(fields.fields):
            if i:
                segs.append((" ", True))
            segs.extend(field)
        return segs

    async def expand_pattern(self, node, state: ShellState) -> str:
        return segs_pattern(await self.expand_segments(node, state))

    # ------------------------------------------------------------ the walk
    async def _expand_into(self, node, state, fields: Fields, *, quoted: bool,
                           no_split: bool = False) -> None:
        kind = node.type
        if kind in ("word", "extglob_pattern", "regex", "variable_name", "test_operator",
                    "special_variable_name"):
            text = text_of(node)
            if quoted:
                fields.add(text, True)
                return
            at_word_start = node.parent is None or node.parent.type != "concatenation" \
                or node.prev_sibling is None
            if kind == "word" and text.startswith("~") and at_word_start:
                m = re.match(r"~([^/]*)", text)
                if m and m.group(1) == "":
                    fields.add(state.get("HOME") or "/", True)
                    text = text[m.end():]
            self._add_unquoted_literal(text, fields)
        elif kind == "number":
            fields.add(text_of(node), quoted)
        elif kind == "raw_string":
            fields.add(text_of(node)[1:-1], True)
        elif kind == "ansi_c_string":
            fields.add(self._ansi_c(text_of(node)[2:-1]), True)
        elif kind == "string":
            fields.add("", True)
            await self._expand_string_node(node, state, fields)
        elif kind == "string_content":
            fields.add(self._dq_unescape(text_of(node)), True)
        elif kind == "concatenation":
            await self._expand_children_with_gaps(node, state, fields, quoted=quoted,
                                                  no_split=no_split)
        elif kind == "simple_expansion" or kind == "expansion":
            await self._expand_parameter(node, state, fields, quoted=quoted, no_split=no_split)
        elif kind == "command_substitution" and _looks_arithmetic(node):
            value = str(await self.arith_node(node, state, 3, 2))
            self._add_value(value, fields, quoted, no_split)
        elif kind == "command_substitution":
            value = await self.command_substitution(node, state)
            if len(value) > BIG_VALUE and not (quoted or no_split):
                await self._add_split_big(value, fields)
            else:
                self._add_value(value, fields, quoted, no_split)
        elif kind == "arithmetic_expansion":
            value = str(await self.arith_node(node, state, 3, 2))
            self._add_value(value, fields, quoted, no_split)
        elif kind == "brace_expression":
            fields.add(text_of(node), quoted)
        else:
            raise CommandError(f"unsupported word: {kind}", 2)

    async def _add_split_big(self, value: str, fields: Fields) -> None:
        """Split a long unquoted result in slices, yielding between them."""
        step = 1 << 14
        start = 0
        while start < len(value):
            end = min(len(value), start + step)
            while end < len(value) and value[end - 1] not in " \t\n":
                end += 1
            fields.add_split(value[start:end])
            start = end
            await self.tick()

    def _add_value(self, value: str, fields: Fields, quoted: bool, no_split: bool) -> None:
        if quoted or no_split:
            fields.add(value, True) if quoted else fields.add(value, False)
        else:
            fields.add_split(value)

    def _add_unquoted_literal(self, text: str, fields: Fields) -> None:
        buf: list[str] = []
        i = 0
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text):
                if buf:
                    fields.add("".join(buf), False)
                    buf = []
                if text[i + 1] != "\n":
                    fields.add(text[i + 1], True)
                i += 2
                continue
            buf.append(c)
            i += 1
        if buf:
            fields.add("".join(buf), False)

    @staticmethod
    def _dq_unescape(text: str) -> str:
        return re.sub(r'\\([$`"\\\n])', lambda m: "" if m.group(1) == "\n" else m.group(1), text)

    @staticmethod
    def _ansi_c(text: str) -> str:
        def repl(m: re.Match) -> str:
            s = m.group(1)
            if s[0] in _ANSI:
                return _ANSI[s[0]]
            if s[0] == "x" and len(s) > 1:
                return byte_char(int(s[1:], 16))
            if s[0] in "uU" and len(s) > 1:
                return chr(int(s[1:], 16))
            if s[0] in "01234567":
                return byte_char(int(s, 8))
            return "\\" + s
        return re.sub(r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|.)",
                      repl, text, flags=re.DOTALL)

    async def _expand_string_node(self, node, state, fields: Fields) -> None:
        base = node.start_byte
        raw = node.text
        pos = 1
        for child in node.children:
            if child.type == '"':
                continue
            start = child.start_byte - base
            if start > pos:
                fields.add(self._dq_unescape(raw[pos:start].decode("utf-8", "surrogateescape")), True)
            await self._expand_into(child, state, fields, quoted=True)
            pos = child.end_byte - base
        end = len(raw) - 1
        if end > pos:
            fields.add(self._dq_unescape(raw[pos:end].decode("utf-8", "surrogateescape")), True)

    async def _expand_children_with_gaps(self, node, state, fields, *, quoted, no_split) -> None:
        base = node.start_byte
        raw = node.text
        pos = 0
        for child in node.children:
            start = child.start_byte - base
            if start > pos:
                self._add_unquoted_literal(raw[pos:start].decode("utf-8", "surrogateescape"), fields)
            await self._expand_into(child, state, fields, quoted=quoted, no_split=no_split)
            pos = child.end_byte - base
        if pos < len(raw):
            self._add_unquoted_literal(raw[pos:].decode("utf-8", "surrogateescape"), fields)

    # ------------------------------------------------------------ parameters
    def special_values(self, name: str, state: ShellState) -> str | None:
        if name == "?":
            return str(state.last_status)
        if name == "#":
            return str(len(state.positional))
        if name in ("@", "*"):
            return " ".join(state.positional)
        if name == "$":
            return "4242"
        if name == "!":
            return ""
        if name == "-":
            return "hB"
        if name == "0":
            return state.script_name
        if name.isdigit():
            idx = int(name)
            return state.positional[idx - 1] if idx <= len(state.positional) else None
        if name == "RANDOM":
            return str(random.randrange(32768))
        return state.get(name)

    def _positional_fields(self, name: str, state, fields: Fields, quoted: bool, no_split) -> None:
        params = state.positional
        if quoted and name == "@":
            if not params:
                return
            for i, p in enumerate(params):
                if i:
                    fields.brk()
                fields.add(p, True)
            return
        if name == "*" and (quoted or no_split):
            sep = (state.get("IFS") if state.get("IFS") is not None else " ")[:1]
            fields.add(sep.join(params), quoted)
            return
        for i, p in enumerate(params):
            if i:
                fields.brk()
            if no_split:
                fields.add(p, False)
            else:
                fields.add_split(p)

    async def _expand_parameter(self, node, state, fields: Fields, *, quoted, no_split) -> None:
        text = text_of(node)
        stripped = text.lstrip(" \t\n")
        if stripped != text:      # tree-sitter-bash folds preceding blanks into the '$' token
            if quoted or no_split:
                fields.add(text[:len(text) - len(stripped)], True)
            text = stripped
        if node.type == "simple_expansion":
            name = text[1:]
            if name in ("@", "*"):
                self._positional_fields(name, state, fields, quoted, no_split)
                return
            value = self.special_values(name, state)
            if value is None and "u" in state.options:
                raise CommandError(f"{name}: unbound variable", 1)
            self._add_value(value or "", fields, quoted, no_split)
            return
        inner = text[2:-1]
        value = await self._parameter_value(inner, state, fields, quoted, no_split)
        if value is not None:
            self._add_value(value, fields, quoted, no_split)

    async def _operand(self, text: str, state, quoted: bool) -> list[Seg]:
        if not re.search(r"[$`'\"\\~]", text):
            return [(text, quoted)]
        if quoted:
            text = '"' + text.replace('"', '\\"') + '"' if '"' not in text else text
        nodes = self._reparse_words(text)
        segs: list[Seg] = []
        prev_end = None
        for node in nodes:
            if prev_end is not None and node.start_byte > prev_end:
                segs.append((" ", True))
            segs.extend(await self.expand_segments(node, state, quoted=False))
            prev_end = node.end_byte
        return segs

    async def _parameter_value(self, inner: str, state, fields, quoted, no_split) -> str | None:
        if inner.startswith("#") and len(inner) > 1 and _NAME.fullmatch(inner[1:]):
            name = inner[1:]
            if name in ("@", "*"):
                return str(len(state.positional))
            return str(len(self.special_values(name, state) or ""))
        indirect = False
        if inner.startswith("!") and len(inner) > 1:
            indirect = True
            inner = inner[1:]
        m = _NAME.match(inner)
        if not m:
            raise CommandError(f"${{{inner}}}: bad substitution", 1)
        name = m.group(0)
        rest = inner[m.end():]
        if name in ("@", "*") and not rest:
            self._positional_fields(name, state, fields, quoted, no_split)
            return None
        value = self.special_values(name, state)
        if indirect:
            value = self.special_values(value, state) if value else None
        if not rest:
            if value is None and "u" in state.options:
                raise CommandError(f"{name}: unbound variable", 1)
            return value or ""
        for op in (":-", ":=", ":+", ":?", "-", "=", "+", "?"):
            if rest.startswith(op):
                word = rest[len(op):]
                unset = value is None or (op.startswith(":") and value == "")
                base = op[-1]
                if base == "-":
                    return segs_text(await self._operand(word, state, quoted)) if unset else value
                if base == "=":
                    if unset:
                        value = segs_text(await self._operand(word, state, quoted))
                        state.set(name, value)
                    return value
                if base == "+":
                    return "" if unset else segs_text(await self._operand(word, state, quoted))
                if base == "?":
                    if unset:
                        msg = segs_text(await self._operand(word, state, quoted)) or \
                            "parameter null or not set"
                        raise CommandError(f"{name}: {msg}", 1)
                    return value
        value = value or ""
        if rest.startswith(("##", "#", "%%", "%")):
            op = "##" if rest.startswith("##") else "%%" if rest.startswith("%%") else rest[0]
            pattern = segs_pattern(await self._operand(rest[len(op):], state, quoted))
            return _trim(value, pattern, op)
        if rest.startswith("/"):
            body = rest[1:]
            mode = ""
            if body[:1] in ("/", "#", "%"):
                mode, body = body[0], body[1:]
            pat_text, _, rep_text = _split_unescaped(body, "/")
            pattern = segs_pattern(await self._operand(pat_text, state, quoted))
            replacement = segs_text(await self._operand(rep_text, state, quoted))
            return _replace(value, pattern, replacement, mode)
        if rest.startswith(("^^", ",,", "^", ",")):
            op = rest[:2] if rest[:2] in ("^^", ",,") else rest[0]
            if op == "^^":
                return value.upper()
            if op == ",,":
                return value.lower()
            if op == "^":
                return value[:1].upper() + value[1:]
            return value[:1].lower() + value[1:]
        if rest.startswith(":"):
            spec = rest[1:]
            off_text, sep, len_text = spec.partition(":")
            get = lambda n: self.special_values(n, state)  # noqa: E731
            offset = arith.evaluate(off_text, get, state.set) if off_text.strip() else 0
            if offset < 0:
                offset = max(0, len(value) + offset)
            if sep:
                length = arith.evaluate(len_text, get, state.set) if len_text.strip() else 0
                end = offset + length if length >= 0 else len(value) + length
                return value[offset:end]
            return value[offset:]
        raise CommandError(f"${{{inner}}}: bad substitution", 1)

    # ------------------------------------------------------------ arithmetic
    async def arith_node(self, node, state, skip_head: int, skip_tail: int) -> int:
        """Evaluate the arithmetic inside ``node`` (minus its delimiters)."""
        text = await self._arith_text(node, state, node.start_byte + skip_head,
                                      node.end_byte - skip_tail)
        return arith.evaluate(text, lambda n: self.special_values(n, state), state.set)

    async def _arith_text(self, node, state, start: int, end: int) -> str:
        raw = node.text
        base = node.start_byte
        pieces: list[str] = []
        pos = start
        stack = list(reversed(node.children))
        found = []
        while stack:
            child = stack.pop()
            if child.end_byte <= start or child.start_byte >= end:
                continue
            if child.type in _EXPANSIONS or child.type in ("string", "raw_string"):
                found.append(child)
            else:
                stack.extend(reversed(child.children))
        for child in sorted(found, key=lambda c: c.start_byte):
            pieces.append(raw[pos - base:child.start_byte - base].decode("utf-8", "surrogateescape"))
            pieces.append(await self.expand_string(child, state))
            pos = child.end_byte
        pieces.append(raw[pos - base:end - base].decode("utf-8", "surrogateescape"))
        return "".join(pieces)

    # ------------------------------------------------------------ braces
    async def _brace_variants(self, node) -> list:
        if b"{" not in node.text or node.type in ("string", "raw_string", "ansi_c_string"):
            return [None]
        text = text_of(node)
        variants = brace_expand(text)
        if variants == [text]:
            return [None]
        return variants

    # ------------------------------------------------------------ globbing
    async def glob(self, pattern: str, state: ShellState) -> list[str]:
        absolute = pattern.startswith("/")
        dirs_only = pattern.endswith("/")
        parts = [p for p in pattern.split("/") if p]
        bases = ["/" if absolute else ""]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt: list[str] = []
            for base in bases:
                dir_path = state.resolve(base or ".")
                if not has_glob(part):
                    name = unescape_glob(part)
                    candidate = base + name if base.endswith("/") or not base else base + "/" + name
                    if last:
                        if await self._exists(state.resolve(candidate)):
                            nxt.append(candidate)
                    else:
                        nxt.append(candidate)
                    continue
                try:
                    names = await self.fs.readdir(dir_path)
                except VfsError:
                    continue
                regex = compile_glob(part)
                for name in sorted(names):
                    if name.startswith(".") and not part.startswith((".", "\\.")):
                        continue
                    if regex.fullmatch(name):
                        candidate = base + name if base.endswith("/") or not base else base + "/" + name
                        if not last or dirs_only:
                            try:
                                st = await self.fs.stat(state.resolve(candidate))
                            except VfsError:
                                continue
                            if not st.is_dir:
                                continue
                        nxt.append(candidate)
                await self.tick()
            bases = nxt
            if not bases:
                return []
        if pattern.endswith("/"):
            bases = [b + "/" for b in bases]
        return sorted(bases)

    async def _exists(self, path: str) -> bool:
        try:
            await self.fs.stat(path)
            return True
        except VfsError as exc:
            if exc.code in (errno.ENOENT, errno.ENOTDIR):
                return False
            return False


def _looks_arithmetic(node) -> bool:
    """tree-sitter-bash reads ``$((1+2))`` inside a here-doc as ``$( (1+2) )``."""
    raw = node.text
    return raw.startswith(b"$((") and raw.endswith(b"))") and node.parent is not None \
        and node.parent.type == "heredoc_body"


def _split_unescaped(text: str, sep: str) -> tuple[str, str, str]:
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == sep:
            return text[:i], sep, text[i + 1:]
        i += 1
    return text, "", ""


def _trim(value: str, pattern: str, op: str) -> str:
    regex = compile_glob(pattern)
    if op in ("#", "##"):
        ends = range(0, len(value) + 1) if op == "#" else range(len(value), -1, -1)
        for end in ends:
            if regex.fullmatch(value[:end]):
                return value[end:]
        return value
    starts = range(len(value), -1, -1) if op == "%" else range(0, len(value) + 1)
    for start in starts:
        if regex.fullmatch(value[start:]):
            return value[:start]
    return value


def _replace(value: str, pattern: str, replacement: str, mode: str) -> str:
    if not pattern:
        return value
    regex = compile_glob(pattern)
    if mode == "#":
        for end in range(len(value), -1, -1):
            if regex.fullmatch(value[:end]):
                return replacement + value[end:]
        return value
    if mode == "%":
        for start in range(0, len(value) + 1):
            if regex.fullmatch(value[start:]):
                return value[:start] + replacement
        return value
    out: list[str] = []
    i = 0
    replaced = False
    while i <= len(value):
        if replaced and mode != "/":
            out.append(value[i:])
            break
        match_end = None
        for end in range(len(value), i, -1):
            if regex.fullmatch(value[i:end]):
                match_end = end
                break
        if match_end is not None:
            out.append(replacement)
            i = match_end
            replaced = True
            continue
        if i < len(value):
            out.append(value[i])
        i += 1
    return "".join(out)


def brace_expand(text: str) -> list[str]:
    """Bash brace expansion on a word's source text (quotes respected)."""
    depth = 0
    start = -1
    i = 0
    quote = None
    while i < len(text):
        c = text[i]
        if quote:
            if c == quote:
                quote = None
            elif c == "\\" and quote == '"':
                i += 1
        elif c == "\\":
            i += 1
        elif c in "'\"":
            quote = c
        elif c == "$" and i + 1 < len(text) and text[i + 1] == "{":
            close = text.find("}", i)
            if close < 0:
                return [text]
            i = close
        elif c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                inner = text[start + 1:i]
                options = _brace_options(inner)
                if options is not None:
                    prefix, suffix = text[:start], text[i + 1:]
                    out: list[str] = []
                    for opt in options:
                        out.extend(brace_expand(prefix + opt + suffix))
                    return out
        i += 1
    return [text]


def _brace_options(inner: str) -> list[str] | None:
    m = re.fullmatch(r"(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?", inner)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        step = abs(int(m.group(3) or 1)) or 1
        width = max(len(m.group(1)), len(m.group(2))) if (
            m.group(1).lstrip("-").startswith("0") or m.group(2).lstrip("-").startswith("0")) else 0
        rng = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
        return [str(n).zfill(width) for n in rng]
    m = re.fullmatch(r"([a-zA-Z])\.\.([a-zA-Z])", inner)
    if m:
        a, b = ord(m.group(1)), ord(m.group(2))
        rng = range(a, b + 1) if a <= b else range(a, b - 1, -1)
        return [chr(n) for n in rng]
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    i = 0
    while i < len(inner):
        c = inner[i]
        if c == "\\" and i + 1 < len(inner):
            cur.append(inner[i:i + 2])
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts if len(parts) > 1 else None
