"""Shell glob patterns and POSIX regular expressions, translated to Python regex syntax.

Every pattern that comes from a shell line is compiled with the ``regex`` engine through
:func:`compile_user_regex`: each match is bounded in time, so a catastrophically
backtracking pattern (``grep -E '^(a+)+$'``) ends its command with an error instead of
freezing the event loop — and with it every other workspace and the health probe.
``re`` cannot do that: a match never yields and cannot be interrupted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache, partial

import regex as _regex

# The longest one match call may hold the event loop. Real patterns on real lines take
# microseconds; only pathological backtracking comes near this.
MATCH_TIMEOUT_SECONDS = 0.25

_FLAG_NAMES = ("IGNORECASE", "MULTILINE", "DOTALL", "VERBOSE", "ASCII")


class RegexTooSlow(ValueError):
    """A match ran past MATCH_TIMEOUT_SECONDS: the pattern backtracks catastrophically."""

    def __init__(self) -> None:
        super().__init__("regular expression too slow on this input (catastrophic backtracking): "
                         "simplify it")


class UserRegex:
    """A compiled pattern from a shell line, with ``re.Pattern``'s interface, every match
    bounded in time (raising :class:`RegexTooSlow`)."""

    __slots__ = ("_rx",)
    _BOUNDED = frozenset({"search", "match", "fullmatch", "sub", "subn", "split", "findall"})

    def __init__(self, compiled) -> None:
        self._rx = compiled

    def __getattr__(self, name: str):
        attr = getattr(self._rx, name)         # pattern, groups, groupindex, flags, ...
        return partial(self._bounded, attr) if name in self._BOUNDED else attr

    def __repr__(self) -> str:
        return f"UserRegex({self._rx.pattern!r})"

    @staticmethod
    def _bounded(method, *args, **kwargs):
        try:
            return method(*args, timeout=MATCH_TIMEOUT_SECONDS, **kwargs)
        except TimeoutError:
            raise RegexTooSlow() from None

    def finditer(self, *args, **kwargs) -> Iterator:
        matches = self._bounded(self._rx.finditer, *args, **kwargs)
        try:
            yield from matches
        except TimeoutError:
            raise RegexTooSlow() from None


def compile_user_regex(body: str, flags: int = 0) -> UserRegex:
    """Compile ``body`` (Python regex syntax, ``re`` flags) for bounded matching; a bad
    pattern raises ``re.error`` like ``re.compile`` does."""
    engine_flags = _regex.VERSION0
    for name in _FLAG_NAMES:
        if flags & getattr(re, name):
            engine_flags |= getattr(_regex, name)
    try:
        return UserRegex(_regex.compile(body, engine_flags))
    except _regex.error as exc:
        raise re.error(str(exc)) from None

POSIX_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r" \t\n\r\f\v", "blank": r" \t", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f",
    "word": "a-zA-Z0-9_", "cntrl": r"\x00-\x1f\x7f", "print": r" -~", "graph": r"!-~",
}

GLOB_CHARS = frozenset("*?[")


def _bracket(pattern: str, i: int, *, glob: bool) -> tuple[str, int] | None:
    """Translate a bracket expression starting at ``pattern[i] == '['``.
    Returns (regex, index after it) or None when it is not a complete bracket."""
    j = i + 1
    negate = False
    if j < len(pattern) and (pattern[j] == "^" or (glob and pattern[j] == "!")):
        negate = True
        j += 1
    out: list[str] = []
    first = True
    while j < len(pattern):
        c = pattern[j]
        if c == "]" and not first:
            body = "".join(out)
            return ("[^" if negate else "[") + body + "]", j + 1
        first = False
        if c == "[" and pattern.startswith("[:", j):
            end = pattern.find(":]", j + 2)
            if end >= 0 and pattern[j + 2:end] in POSIX_CLASSES:
                out.append(POSIX_CLASSES[pattern[j + 2:end]])
                j = end + 2
                continue
        if c == "\\" and glob and j + 1 < len(pattern):
            out.append(re.escape(pattern[j + 1]))
            j += 2
            continue
        if c in "\\[]^":
            out.append("\\" + c)
        else:
            out.append(c)
        j += 1
    return None


@lru_cache(maxsize=512)
def glob_to_regex(pattern: str) -> str:
    """A shell pattern (backslash escapes a character) as a regex body (no anchors)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif c == "*":
            out.append(".*")
            i += 1
        elif c == "?":
            out.append(".")
            i += 1
        elif c == "[":
            got = _bracket(pattern, i, glob=True)
            if got is None:
                out.append(r"\[")
                i += 1
            else:
                out.append(got[0])
                i = got[1]
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> UserRegex:
    return compile_user_regex(glob_to_regex(pattern), re.DOTALL)


def glob_match(pattern: str, text: str) -> bool:
    return compile_glob(pattern).fullmatch(text) is not None


def has_glob(pattern: str) -> bool:
    """True if the (escaped) pattern has an unescaped glob character."""
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] in GLOB_CHARS:
            return True
        i += 1
    return False


def unescape_glob(pattern: str) -> str:
    return re.sub(r"\\(.)", r"\1", pattern, flags=re.DOTALL)


def escape_glob(text: str) -> str:
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


@lru_cache(maxsize=512)
def posix_regex(pattern: str, extended: bool) -> str:
    """A POSIX BRE (or, with ``extended``, ERE) in Python ``re`` syntax (GNU flavour)."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    at_start = True            # where a BRE '*' is literal and '^' anchors
    while i < n:
        c = pattern[i]
        start_here = at_start
        at_start = False
        if c == "\\" and i + 1 < n:
            d = pattern[i + 1]
            i += 2
            if not extended and d in "(){}|+?":
                out.append(d)
                if d in "(|":
                    at_start = True
            elif d == "<" or d == ">":
                out.append(r"\b")
            elif d in "wWsSbB" or d.isdigit():
                out.append("\\" + d)
            elif d == "n":
                out.append(r"\n")
            elif d == "t":
                out.append(r"\t")
            else:
                out.append(re.escape(d))
            continue
        if c == "[":
            got = _bracket(pattern, i, glob=False)
            if got is None:
                out.append(r"\[")
                i += 1
            else:
                out.append(got[0])
                i = got[1]
            continue
        if c == "*":
            if start_here and not extended:
                out.append(r"\*")
            elif start_here and extended:
                out.append(r"\*")
            else:
                out.append("*")
            i += 1
            continue
        if c == "^":
            if start_here or extended:
                out.append("^")
                at_start = True
            else:
                out.append(r"\^")
            i += 1
            continue
        if c == "$":
            rest = pattern[i + 1:]
            if extended or rest == "" or rest.startswith("\\)") or rest.startswith("\\|"):
                out.append("$")
            else:
                out.append(r"\$")
            i += 1
            continue
        if c in "(){}|+?":
            if extended:
                out.append(c)
                if c in "(|":
                    at_start = True
            else:
                out.append("\\" + c)
            i += 1
            continue
        out.append(re.escape(c) if c not in ".\n" else c)
        i += 1
    return "".join(out)


_TAB_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\t")


def tabs_escaped(pattern: str) -> str:
    """GNU sed and awk read '\\t' as a TAB everywhere in a regex, brackets included."""
    return _TAB_ESCAPE.sub(lambda m: m.group(1) + "\t", pattern)


def compile_posix(pattern: str, *, extended: bool = False, ignore_case: bool = False,
                  fixed: bool = False) -> UserRegex:
    body = re.escape(pattern) if fixed else posix_regex(pattern, extended)
    try:
        return compile_user_regex(body, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
