"""expr EXPRESSION — integer arithmetic, comparisons, '|' '&', and string ops
(STRING : REGEX, match, substr, index, length). Exit 1 when the result is 0 or empty."""

from __future__ import annotations

import re

from mirage.workspace.shell.errors import CommandError
from mirage.workspace.shell.patterns import compile_user_regex, posix_regex

NAMES = ("expr",)

_INT = re.compile(r"[-+]?\d+")


def _is_int(value: str) -> bool:
    return bool(_INT.fullmatch(value))


class _Expr:
    def __init__(self, args: list[str]):
        self.args = args
        self.i = 0

    def peek(self):
        return self.args[self.i] if self.i < len(self.args) else None

    def take(self) -> str:
        if self.i >= len(self.args):
            raise CommandError("syntax error: missing argument", 2)
        self.i += 1
        return self.args[self.i - 1]

    def parse(self) -> str:
        value = self.or_()
        if self.i != len(self.args):
            raise CommandError(f"syntax error: unexpected argument '{self.args[self.i]}'", 2)
        return value

    def or_(self) -> str:
        left = self.and_()
        while self.peek() == "|":
            self.take()
            right = self.and_()
            left = left if left not in ("", "0") else (right if right not in ("", "0") else "0")
        return left

    def and_(self) -> str:
        left = self.compare()
        while self.peek() == "&":
            self.take()
            right = self.compare()
            left = left if left not in ("", "0") and right not in ("", "0") else "0"
        return left

    def compare(self) -> str:
        left = self.additive()
        while self.peek() in ("<", "<=", "=", "==", "!=", ">=", ">"):
            op = self.take()
            right = self.additive()
            if _is_int(left) and _is_int(right):
                a, b = int(left), int(right)
            else:
                a, b = left, right
            result = {"<": a < b, "<=": a <= b, "=": a == b, "==": a == b, "!=": a != b,
                      ">=": a >= b, ">": a > b}[op]
            left = "1" if result else "0"
        return left

    def additive(self) -> str:
        left = self.multiplicative()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.multiplicative()
            a, b = self._ints(left, right)
            left = str(a + b if op == "+" else a - b)
        return left

    def multiplicative(self) -> str:
        left = self.match()
        while self.peek() in ("*", "/", "%"):
            op = self.take()
            right = self.match()
            a, b = self._ints(left, right)
            if op != "*" and b == 0:
                raise CommandError("division by zero", 2)
            if op == "*":
                left = str(a * b)
            else:
                q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
                left = str(q if op == "/" else a - q * b)
        return left

    def match(self) -> str:
        left = self.primary()
        while self.peek() == ":":
            self.take()
            left = _match(left, self.primary())
        return left

    def primary(self) -> str:
        token = self.take()
        if token == "(":
            value = self.or_()
            if self.take() != ")":
                raise CommandError("syntax error: expecting ')'", 2)
            return value
        if token == "length":
            return str(len(self.take()))
        if token == "match":
            text = self.take()
            return _match(text, self.take())
        if token == "index":
            text, chars = self.take(), self.take()
            positions = [text.find(c) + 1 for c in chars if c in text]
            return str(min(positions) if positions else 0)
        if token == "substr":
            text, pos, length = self.take(), self.take(), self.take()
            p, n = self._ints(pos, length)
            return text[p - 1:p - 1 + n] if p >= 1 and n > 0 else ""
        if token == "+":
            return self.take()
        return token

    @staticmethod
    def _ints(a: str, b: str) -> tuple[int, int]:
        if not (_is_int(a) and _is_int(b)):
            raise CommandError("non-integer argument", 2)
        return int(a), int(b)


def _match(text: str, pattern: str) -> str:
    try:
        regex = compile_user_regex(posix_regex(pattern, False))
    except re.error as exc:
        raise CommandError(f"invalid regular expression: {exc}", 2) from None
    m = regex.match(text)
    if regex.groups:
        return (m.group(1) or "") if m else ""
    return str(m.end() if m else 0)


async def run(inv) -> int:
    if not inv.args:
        await inv.error("missing operand")
        return 2
    value = _Expr(list(inv.args)).parse()
    await inv.out(value + "\n")
    return 1 if value in ("", "0") or (_is_int(value) and int(value) == 0) else 0
