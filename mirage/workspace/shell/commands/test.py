"""test EXPR / [ EXPR ] — POSIX test with -a/-o, !, ( ), file and string primaries."""

from __future__ import annotations

from mirage.workspace.shell.errors import CommandError
from mirage.workspace.shell.testexpr import binary_test, is_binary, is_unary, unary_test

NAMES = ("test", "[")


class _Parser:
    def __init__(self, inv, args: list[str]):
        self.inv = inv
        self.args = args
        self.i = 0

    def peek(self, k: int = 0):
        j = self.i + k
        return self.args[j] if j < len(self.args) else None

    async def expr(self) -> bool:
        value = await self.and_()
        while self.peek() == "-o":
            self.i += 1
            rhs = await self.and_()
            value = value or rhs
        return value

    async def and_(self) -> bool:
        value = await self.not_()
        while self.peek() == "-a":
            self.i += 1
            rhs = await self.not_()
            value = value and rhs
        return value

    async def not_(self) -> bool:
        if self.peek() == "!" and self.i + 1 < len(self.args):
            self.i += 1
            return not await self.not_()
        return await self.primary()

    async def primary(self) -> bool:
        tok = self.peek()
        if tok is None:
            raise CommandError("argument expected", 2)
        if tok == "(" and self.i + 1 < len(self.args):
            self.i += 1
            value = await self.expr()
            if self.peek() != ")":
                raise CommandError("')' expected", 2)
            self.i += 1
            return value
        if self.peek(1) is not None and is_binary(self.peek(1)):
            a, op, b = tok, self.peek(1), self.peek(2)
            if b is None:
                raise CommandError(f"{op}: argument expected", 2)
            self.i += 3
            return binary_test(op, a, b)
        if is_unary(tok) and self.peek(1) is not None:
            self.i += 2
            return await unary_test(tok, self.args[self.i - 1], self.inv.fs, self.inv.state)
        self.i += 1
        return tok != ""


async def run(inv) -> int:
    args = list(inv.args)
    if inv.name == "[":
        if not args or args[-1] != "]":
            await inv.error("missing `]'")
            return 2
        args.pop()
    if not args:
        return 1
    parser = _Parser(inv, args)
    try:
        if len(args) == 1:
            return 0 if args[0] != "" else 1
        if len(args) == 2 and args[0] == "!":
            return 0 if args[1] == "" else 1
        if len(args) == 3 and is_binary(args[1]):
            return 0 if binary_test(args[1], args[0], args[2]) else 1
        value = await parser.expr()
        if parser.i != len(args):
            await inv.error(f"{args[parser.i]}: unexpected operator")
            return 2
        return 0 if value else 1
    except CommandError as exc:
        await inv.error(exc.message)
        return 2
