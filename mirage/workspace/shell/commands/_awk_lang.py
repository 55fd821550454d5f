"""A small awk: lexer and parser producing tuples evaluated by ``_awk_run``.

Covers what agents use: BEGIN/END, patterns (regex, expressions, ranges), fields
and NF/NR/FNR/FS/OFS/ORS, print/printf with > and >> redirection, if/while/do/for/
for-in, next/exit/break/continue, arrays, user functions and the common builtins.
"""

from __future__ import annotations

import re

KEYWORDS = {"BEGIN", "END", "function", "func", "if", "else", "while", "for", "do", "break",
            "continue", "next", "nextfile", "exit", "return", "delete", "in", "getline",
            "print", "printf"}
BUILTINS = {"length", "substr", "index", "split", "sub", "gsub", "match", "sprintf", "tolower",
            "toupper", "int", "sqrt", "exp", "log", "sin", "cos", "atan2", "rand", "srand",
            "system", "close", "fflush"}


class AwkError(Exception):
    pass


_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r]+|\\\n|\#[^\n]*)
  | (?P<newline>\n)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|0[xX][0-9a-fA-F]+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<funcname>[A-Za-z_][A-Za-z0-9_]*\()
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\+\+|--|\+=|-=|\*=|/=|%=|\^=|\*\*=|\*\*|==|!=|<=|>=|&&|\|\||>>|!~|[-+*/%^!<>=~?:;,(){}\[\]$|])
""", re.VERBOSE)

_OPERAND_END = {"number", "string", "name", "ere"}


def _unescape(body: str) -> str:
    mapping = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "/": "/", "a": "\a",
               "b": "\b", "f": "\f", "v": "\v"}

    def repl(m):
        s = m.group(1)
        if s in mapping:
            return mapping[s]
        if s[0] in "01234567":
            return chr(int(s, 8))
        return "\\" + s
    return re.sub(r"\\([0-7]{1,3}|.)", repl, body, flags=re.DOTALL)


def _divides(prev) -> bool:
    """After an operand, '/' divides; elsewhere it starts a regex literal."""
    if prev is None:
        return False
    kind, text = prev
    if kind in _OPERAND_END or kind == "builtin":
        return True
    return kind == "op" and text in (")", "]", "++", "--")


def tokenize(src: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(src):
        prev = tokens[-1] if tokens else None
        if src[i] == "/" and not _divides(prev):
            j = i + 1
            body = []
            in_bracket = False
            while j < len(src) and (src[j] != "/" or in_bracket):
                if src[j] == "\n":
                    raise AwkError("newline in regex")
                if src[j] == "\\" and j + 1 < len(src):
                    body.append(src[j:j + 2] if src[j + 1] != "/" else "/")
                    j += 2
                    continue
                if src[j] == "[":
                    in_bracket = True
                elif src[j] == "]":
                    in_bracket = False
                body.append(src[j])
                j += 1
            if j >= len(src):
                raise AwkError("unterminated regexp")
            tokens.append(("ere", "".join(body)))
            i = j + 1
            continue
        m = _TOKEN.match(src, i)
        if not m:
            raise AwkError(f"syntax error at source line 1: unexpected character '{src[i]}'")
        kind = m.lastgroup
        text = m.group(kind)
        i = m.end()
        if kind == "ws":
            continue
        if kind == "string":
            tokens.append(("string", _unescape(text[1:-1])))
        elif kind == "funcname":
            name = text[:-1]
            if name in KEYWORDS and name not in ("getline",):
                tokens.append(("keyword", name))
                tokens.append(("op", "("))
            elif name in BUILTINS:
                tokens.append(("builtin", name))
                tokens.append(("op", "("))
            else:
                tokens.append(("funcname", name))
        elif kind == "name":
            if text in KEYWORDS:
                tokens.append(("keyword", text))
            elif text in BUILTINS:
                tokens.append(("builtin", text))
            else:
                tokens.append(("name", text))
        else:
            tokens.append((kind, text))
    tokens.append(("eof", ""))
    return tokens


class Parser:
    def __init__(self, src: str):
        self.tokens = tokenize(src)
        self.i = 0
        self.functions: dict[str, tuple] = {}
        self.items: list[tuple] = []
        self.no_in = False
        self.no_gt = False

    # -- helpers
    def peek(self, k: int = 0):
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def at(self, text: str, kind: str | None = None) -> bool:
        tok = self.peek()
        return tok[1] == text and (kind is None or tok[0] == kind) and tok[0] not in ("string", "ere")

    def take(self):
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, text: str):
        tok = self.take()
        if tok[1] != text or tok[0] in ("string", "ere"):
            raise AwkError(f"syntax error: expected '{text}' near '{tok[1]}'")
        return tok

    def skip_nl(self):
        while self.peek()[0] == "newline" or self.at(";"):
            self.take()

    def opt_nl(self):
        while self.peek()[0] == "newline":
            self.take()

    # -- program
    def program(self):
        self.skip_nl()
        while self.peek()[0] != "eof":
            self.item()
            self.skip_nl()
        return self.items, self.functions

    def item(self):
        tok = self.peek()
        if tok == ("keyword", "function") or tok == ("keyword", "func"):
            self.take()
            name_tok = self.take()
            if name_tok[0] not in ("funcname", "name"):
                raise AwkError("syntax error in function definition")
            if name_tok[0] == "name":
                self.expect("(")
            params = []
            while not self.at(")"):
                params.append(self.take()[1])
                if self.at(","):
                    self.take()
                    self.opt_nl()
            self.expect(")")
            self.opt_nl()
            self.functions[name_tok[1]] = (params, self.block())
            return
        if tok == ("keyword", "BEGIN"):
            self.take()
            self.opt_nl()
            self.items.append(("BEGIN", None, self.block()))
            return
        if tok == ("keyword", "END"):
            self.take()
            self.opt_nl()
            self.items.append(("END", None, self.block()))
            return
        pattern = None
        if not self.at("{"):
            first = self.expr()
            if self.at(","):
                self.take()
                self.opt_nl()
                pattern = ("range", first, self.expr(), [False])
            else:
                pattern = first
        action = self.block() if self.at("{") else None
        self.items.append(("MAIN", pattern, action))

    def block(self):
        self.expect("{")
        stmts = []
        self.skip_nl()
        while not self.at("}"):
            stmts.append(self.statement())
            self.skip_nl()
        self.expect("}")
        return ("block", stmts)

    def simple_end(self):
        if self.at(";") or self.peek()[0] == "newline":
            self.take()
        elif self.at("}") or self.peek()[0] == "eof":
            pass
        else:
            raise AwkError(f"syntax error near '{self.peek()[1]}'")

    def statement(self):
        tok = self.peek()
        if self.at("{"):
            return self.block()
        if tok[0] == "keyword":
            kw = tok[1]
            if kw == "if":
                self.take()
                self.expect("(")
                cond = self.expr()
                self.expect(")")
                self.opt_nl()
                then = self.statement()
                save = self.i
                self.skip_nl()
                if self.peek() == ("keyword", "else"):
                    self.take()
                    self.opt_nl()
                    return ("if", cond, then, self.statement())
                self.i = save
                return ("if", cond, then, None)
            if kw == "while":
                self.take()
                self.expect("(")
                cond = self.expr()
                self.expect(")")
                if self.at(";"):
                    self.take()
                    return ("while", cond, ("block", []))
                self.opt_nl()
                return ("while", cond, self.statement())
            if kw == "do":
                self.take()
                self.opt_nl()
                body = self.statement()
                self.skip_nl()
                if self.peek() != ("keyword", "while"):
                    raise AwkError("syntax error: expected while after do")
                self.take()
                self.expect("(")
                cond = self.expr()
                self.expect(")")
                self.simple_end()
                return ("do", body, cond)
            if kw == "for":
                self.take()
                self.expect("(")
                if self.peek()[0] == "name" and self.peek(1) == ("keyword", "in"):
                    save = self.i
                    var = self.take()[1]
                    self.take()
                    arr_tok = self.take()
                    if self.at(")"):
                        self.take()
                        self.opt_nl()
                        return ("forin", var, arr_tok[1], self.statement())
                    self.i = save
                init = None if self.at(";") else self.simple_statement()
                self.expect(";")
                self.opt_nl()
                cond = None if self.at(";") else self.expr()
                self.expect(";")
                self.opt_nl()
                step = None if self.at(")") else self.simple_statement()
                self.expect(")")
                if self.at(";"):
                    self.take()
                    return ("for", init, cond, step, ("block", []))
                self.opt_nl()
                return ("for", init, cond, step, self.statement())
            if kw in ("break", "continue", "next", "nextfile"):
                self.take()
                self.simple_end()
                return (kw,)
            if kw == "exit":
                self.take()
                value = None
                if not (self.at(";") or self.at("}") or self.peek()[0] in ("newline", "eof")):
                    value = self.expr()
                self.simple_end()
                return ("exit", value)
            if kw == "return":
                self.take()
                value = None
                if not (self.at(";") or self.at("}") or self.peek()[0] in ("newline", "eof")):
                    value = self.expr()
                self.simple_end()
                return ("return", value)
        if self.at(";"):
            self.take()
            return ("block", [])
        stmt = self.simple_statement()
        self.simple_end()
        return stmt

    def simple_statement(self):
        tok = self.peek()
        if tok == ("keyword", "print") or tok == ("keyword", "printf"):
            self.take()
            args = []
            paren = False
            if self.at("("):
                # print (a, b) > "f"  vs  print (a)(b)
                save = self.i
                self.take()
                try:
                    inner = [self.expr()]
                    while self.at(","):
                        self.take()
                        self.opt_nl()
                        inner.append(self.expr())
                    self.expect(")")
                    if self.at(";") or self.at("}") or self.at(">") or self.at(">>") or \
                            self.at("|") or self.peek()[0] in ("newline", "eof"):
                        args = inner
                        paren = True
                    else:
                        self.i = save
                except AwkError:
                    self.i = save
            if not paren and not (self.at(";") or self.at("}") or self.at(">") or self.at(">>")
                                  or self.peek()[0] in ("newline", "eof")):
                self.no_gt = True
                try:
                    args.append(self.expr())
                    while self.at(","):
                        self.take()
                        self.opt_nl()
                        args.append(self.expr())
                finally:
                    self.no_gt = False
            dest = None
            if self.at(">") or self.at(">>"):
                mode = self.take()[1]
                dest = (mode, self.concat_no_gt())
            elif self.at("|"):
                raise AwkError("output to a pipe is not supported")
            return (tok[1], args, dest)
        if tok == ("keyword", "delete"):
            self.take()
            name = self.take()[1]
            if self.at("["):
                self.take()
                subs = self.expr_list("]")
                return ("delete", name, subs)
            return ("delete", name, None)
        if tok == ("keyword", "getline"):
            raise AwkError("getline is not supported")
        return ("expr", self.expr())

    def concat_no_gt(self):
        self.no_gt = True
        try:
            return self.concat()
        finally:
            self.no_gt = False

    def expr_list(self, close: str):
        items = [self.expr()]
        while self.at(","):
            self.take()
            self.opt_nl()
            items.append(self.expr())
        self.expect(close)
        return items

    # -- expressions
    def expr(self):
        return self.ternary()

    def ternary(self):
        cond = self.or_()
        if self.at("?"):
            self.take()
            self.opt_nl()
            a = self.ternary()
            self.opt_nl()
            self.expect(":")
            self.opt_nl()
            b = self.ternary()
            return ("cond", cond, a, b)
        if self.peek()[0] == "op" and self.peek()[1] in ("=", "+=", "-=", "*=", "/=", "%=", "^=", "**="):
            if cond[0] in ("var", "field", "index"):
                op = self.take()[1]
                self.opt_nl()
                value = self.ternary()
                return ("assign", op, cond, value)
        return cond

    def or_(self):
        left = self.and_()
        while self.at("||"):
            self.take()
            self.opt_nl()
            left = ("or", left, self.and_())
        return left

    def and_(self):
        left = self.in_()
        while self.at("&&"):
            self.take()
            self.opt_nl()
            left = ("and", left, self.in_())
        return left

    def in_(self):
        left = self.match()
        while self.peek() == ("keyword", "in") and not self.no_in:
            self.take()
            left = ("in", [left], self.take()[1])
        return left

    def match(self):
        left = self.compare()
        while self.at("~") or self.at("!~"):
            op = self.take()[1]
            left = ("match", op == "!~", left, self.compare())
        return left

    def compare(self):
        left = self.concat()
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("<", "<=", "==", "!=", ">=", ">") and not (
                self.no_gt and tok[1] == ">"):
            op = self.take()[1]
            left = ("cmp", op, left, self.concat())
        return left

    def _starts_operand(self) -> bool:
        tok = self.peek()
        if tok[0] in ("number", "string", "ere", "name", "funcname", "builtin"):
            return True
        if tok[0] == "op" and tok[1] in ("$", "(", "!", "++", "--", "-", "+"):
            return tok[1] not in ("-", "+", "!") or False
        return False

    def concat(self):
        left = self.additive()
        while self._starts_operand() and not (self.peek() == ("keyword", "in")):
            left = ("concat", left, self.additive())
        return left

    def additive(self):
        left = self.mult()
        while self.at("+") or self.at("-"):
            op = self.take()[1]
            left = ("bin", op, left, self.mult())
        return left

    def mult(self):
        left = self.unary()
        while self.at("*") or self.at("/") or self.at("%"):
            op = self.take()[1]
            left = ("bin", op, left, self.unary())
        return left

    def unary(self):
        if self.at("!"):
            self.take()
            return ("not", self.unary())
        if self.at("-"):
            self.take()
            return ("neg", self.unary())
        if self.at("+"):
            self.take()
            return ("num", self.unary())
        return self.power()

    def power(self):
        base = self.postfix()
        if self.at("^") or self.at("**"):
            self.take()
            return ("bin", "^", base, self.unary_power())
        return base

    def unary_power(self):
        if self.at("-"):
            self.take()
            return ("neg", self.unary_power())
        return self.power()

    def postfix(self):
        node = self.primary()
        if node[0] in ("var", "field", "index") and (self.at("++") or self.at("--")):
            op = self.take()[1]
            return ("postinc", op, node)
        return node

    def lvalue_primary(self):
        return self.primary()

    def primary(self):
        tok = self.take()
        kind, text = tok
        if kind == "number":
            return ("const", float(int(text, 16)) if text[:2].lower() == "0x" else float(text))
        if kind == "string":
            return ("const", text)
        if kind == "ere":
            return ("regex", text)
        if kind == "op":
            if text == "$":
                if self.at("++") or self.at("--"):
                    op = self.take()[1]
                    return ("field", ("preinc", op, self.primary()))
                return ("field", self.primary())
            if text == "(":
                saved_gt, self.no_gt = self.no_gt, False      # '>' compares inside parentheses
                try:
                    first = self.expr()
                finally:
                    self.no_gt = saved_gt
                if self.at(","):
                    items = [first]
                    while self.at(","):
                        self.take()
                        items.append(self.expr())
                    self.expect(")")
                    if self.peek() == ("keyword", "in"):
                        self.take()
                        return ("in", items, self.take()[1])
                    raise AwkError("syntax error: grouping")
                self.expect(")")
                return ("group", first)
            if text in ("++", "--"):
                target = self.primary()
                return ("preinc", text, target)
            if text == "-":
                return ("neg", self.unary())
            if text == "!":
                return ("not", self.unary())
        if kind == "name":
            if self.at("["):
                self.take()
                subs = self.expr_list("]")
                return ("index", text, subs)
            return ("var", text)
        if kind == "funcname":
            args = [] if self.at(")") else self.expr_list(")") if True else []
            if not args:
                self.expect(")")
            return ("call", text, args)
        if kind == "builtin":
            if self.at("("):
                self.take()
                args = [] if self.at(")") else None
                if args is None:
                    args = self.expr_list(")")
                else:
                    self.expect(")")
                return ("builtin", text, args)
            if text == "length":
                return ("builtin", "length", [])
            raise AwkError(f"syntax error: {text} needs arguments")
        if kind == "keyword" and text == "getline":
            raise AwkError("getline is not supported")
        raise AwkError(f"syntax error at source line 1 near '{text or 'end of program'}'")
