"""Shell arithmetic ``$(( ))`` / ``(( ))``: 64-bit signed integers, C operators."""

from __future__ import annotations

import re
from functools import lru_cache

from mirage.workspace.shell.errors import CommandError

_TOKEN = re.compile(
    r"\s*(?:(?P<num>0[xX][0-9a-fA-F]+|[0-9]+#[0-9a-zA-Z@_]+|[0-9]+)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*=|<<=|>>=|\+\+|--|\*\*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&^|]=|[-+*/%<>=!~&^|?:(),]))"
)

_BINARY = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, ">": 7, "<=": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9,
    "*": 10, "/": 10, "%": 10, "**": 11,
}
_ASSIGN = {"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|=", "**="}


def _wrap(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def _parse_number(text: str) -> int:
    try:
        if "#" in text:
            base_text, digits = text.split("#", 1)
            return int(digits, int(base_text))
        if text[:2].lower() == "0x":
            return int(text, 16)
        if len(text) > 1 and text.startswith("0"):
            return int(text, 8)
        return int(text)
    except ValueError:
        raise CommandError(f"{text}: value too great for base (error token is \"{text}\")") from None


@lru_cache(maxsize=1024)
def _tokens(text: str) -> tuple[tuple[str, str], ...]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if not m or m.end() == pos:
            raise CommandError(f"{text.strip()}: syntax error: invalid arithmetic operator "
                               f"(error token is \"{stripped[pos:].strip()}\")")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tuple(tokens)


class Arith:
    """Evaluates one expression; ``get``/``set`` read and write shell variables."""

    def __init__(self, text: str, get, set_):
        self.text = text
        self.get = get
        self.set = set_
        self.tokens = _tokens(text)
        self.i = 0

    # -- token helpers
    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise CommandError(f"{self.text.strip()}: syntax error: operand expected")
        self.i += 1
        return tok

    def expect(self, op: str) -> None:
        tok = self.take()
        if tok != ("op", op):
            raise CommandError(f"{self.text.strip()}: syntax error in expression "
                               f"(error token is \"{tok[1]}\")")

    def var(self, name: str) -> int:
        raw = self.get(name)
        if raw is None or raw.strip() == "":
            return 0
        raw = raw.strip()
        if re.fullmatch(r"-?[0-9]+", raw):
            return int(raw)
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", raw):
            return self.var(raw)
        return Arith(raw, self.get, self.set).evaluate()

    def evaluate(self) -> int:
        if not self.tokens:
            return 0
        value = self.comma()
        if self.peek() is not None:
            raise CommandError(f"{self.text.strip()}: syntax error in expression "
                               f"(error token is \"{self.peek()[1]}\")")
        return value

    # -- grammar (lowest to highest precedence)
    def comma(self) -> int:
        value = self.assignment()
        while self.peek() == ("op", ","):
            self.take()
            value = self.assignment()
        return value

    def assignment(self) -> int:
        tok = self.peek()
        if tok and tok[0] == "name" and self.i + 1 < len(self.tokens):
            nxt = self.tokens[self.i + 1]
            if nxt[0] == "op" and nxt[1] in _ASSIGN:
                self.i += 2
                rhs = self.assignment()
                name = tok[1]
                if nxt[1] != "=":
                    rhs = self.apply(nxt[1][:-1], self.var(name), rhs)
                rhs = _wrap(rhs)
                self.set(name, str(rhs))
                return rhs
        return self.ternary()

    def ternary(self) -> int:
        cond = self.binary(1)
        if self.peek() == ("op", "?"):
            self.take()
            a = self.assignment()
            self.expect(":")
            b = self.assignment()
            return a if cond else b
        return cond

    def apply(self, op: str, a: int, b: int) -> int:
        if op in ("/", "%") and b == 0:
            raise CommandError(f"{self.text.strip()}: division by 0 (error token is \"{self.text.strip()}\")")
        if op == "/":
            q = abs(a) // abs(b)
            return _wrap(q if (a >= 0) == (b >= 0) else -q)
        if op == "%":
            r = abs(a) % abs(b)
            return r if a >= 0 else -r
        if op == "**":
            if b < 0:
                raise CommandError(f"{self.text.strip()}: exponent less than 0")
            return _wrap(pow(a, b, 1 << 64))
        return _wrap({
            "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
            "<<": lambda: a << (b & 63), ">>": lambda: a >> (b & 63),
            "<": lambda: int(a < b), ">": lambda: int(a > b), "<=": lambda: int(a <= b),
            ">=": lambda: int(a >= b), "==": lambda: int(a == b), "!=": lambda: int(a != b),
            "&": lambda: a & b, "^": lambda: a ^ b, "|": lambda: a | b,
            "&&": lambda: int(bool(a) and bool(b)), "||": lambda: int(bool(a) or bool(b)),
        }[op]())

    def binary(self, min_prec: int) -> int:
        left = self.unary()
        while True:
            tok = self.peek()
            if not tok or tok[0] != "op" or tok[1] not in _BINARY or _BINARY[tok[1]] < min_prec:
                return left
            op = tok[1]
            prec = _BINARY[op]
            self.take()
            right = self.binary(prec if op == "**" else prec + 1)
            left = self.apply(op, left, right)

    def unary(self) -> int:
        tok = self.peek()
        if tok and tok[0] == "op":
            if tok[1] in ("++", "--"):
                self.take()
                name = self.take()
                if name[0] != "name":
                    raise CommandError(f"{self.text.strip()}: syntax error: operand expected")
                value = _wrap(self.var(name[1]) + (1 if tok[1] == "++" else -1))
                self.set(name[1], str(value))
                return value
            if tok[1] in ("-", "+", "!", "~"):
                self.take()
                value = self.unary()
                return {"-": lambda: _wrap(-value), "+": lambda: value,
                        "!": lambda: int(not value), "~": lambda: ~value}[tok[1]]()
        return self.postfix()

    def postfix(self) -> int:
        tok = self.take()
        if tok == ("op", "("):
            value = self.comma()
            self.expect(")")
            return value
        if tok[0] == "num":
            return _wrap(_parse_number(tok[1]))
        if tok[0] == "name":
            nxt = self.peek()
            if nxt and nxt[0] == "op" and nxt[1] in ("++", "--"):
                self.take()
                value = self.var(tok[1])
                self.set(tok[1], str(_wrap(value + (1 if nxt[1] == "++" else -1))))
                return value
            return self.var(tok[1])
        raise CommandError(f"{self.text.strip()}: syntax error: operand expected "
                           f"(error token is \"{tok[1]}\")")


def evaluate(text: str, get, set_) -> int:
    return Arith(text, get, set_).evaluate()
