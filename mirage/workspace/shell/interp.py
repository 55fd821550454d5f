"""The interpreter: walks tree-sitter-bash syntax trees and runs them over a
workspace filesystem. Pipeline stages run as concurrent tasks joined by bounded
pipes; nothing here starts a host process or opens a host path."""

from __future__ import annotations

import asyncio
import logging
import re

from mirage.workspace.shell import arith, parser
from mirage.workspace.shell.commands import lookup
from mirage.workspace.shell.commands._base import USAGE_STATUS_2, Invocation, Usage
from mirage.workspace.shell.errors import (
    CommandError, ExitSignal, LineAborted, LoopSignal, PipeClosed, ReturnSignal, ShellSyntaxError,
)
from mirage.workspace.shell.expand import ExpansionMixin, text_of
from mirage.workspace.shell.io import IO
from mirage.workspace.shell.patterns import RegexTooSlow, compile_user_regex, glob_match
from mirage.workspace.shell.state import ShellState
from mirage.workspace.shell.streams import (
    BytesIn, Capture, FileOut, InStream, NullOut, OutputBudget, Pipe,
)
from mirage.workspace.shell.testexpr import binary_test, unary_test
from mirage.workspace.shell.ticker import Ticker
from mirage.workspace.vfs.base import VfsError

_SKIP = frozenset({";", ";;", "\n", "&", "comment", "(", ")", "{", "}", "do", "done", "then",
                   "fi", "else", "elif", "if", "in", "esac", "case", "for", "while", "until",
                   "function", "((", "))", "!"})
_REDIRECTS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})
_MAX_DEPTH = 200
_CONTROL = (ExitSignal, ReturnSignal, LoopSignal, LineAborted, PipeClosed, ShellSyntaxError)
log = logging.getLogger("mirage.shell")


class Interpreter(ExpansionMixin):
    def __init__(self, fs, ticker: Ticker, budget: OutputBudget, file_budget: OutputBudget):
        self.fs = fs
        self.ticker = ticker
        self.budget = budget
        self.file_budget = file_budget
        self.depth = 0

    async def tick(self) -> None:
        await self.ticker.tick()

    # ------------------------------------------------------------ entry
    async def run_source(self, source: str, state: ShellState, io: IO) -> int:
        root = parser.parse(source)
        return await self.run_statements(root.children, state, io)

    async def run_statements(self, nodes, state: ShellState, io: IO) -> int:
        status = state.last_status
        for node in nodes:
            if node.type in _SKIP or not node.is_named:
                continue
            status = await self.execute(node, state, io)
            state.last_status = status
            if status != 0 and "e" in state.options and not getattr(state, "in_condition", 0) \
                    and node.type not in ("list", "negated_command"):
                raise ExitSignal(status)
        return status

    async def execute(self, node, state: ShellState, io: IO) -> int:
        await self.tick()
        kind = node.type
        handler = getattr(self, "_x_" + kind, None)
        if handler is None:
            raise ShellSyntaxError(f"unsupported syntax: {kind.replace('_', ' ')}")
        self.depth += 1
        try:
            if self.depth > _MAX_DEPTH:
                raise CommandError("maximum nesting depth exceeded", 1)
            return await handler(node, state, io)
        except CommandError as exc:
            await io.stderr.write(f"mirage: {exc.message}\n".encode("utf-8", "surrogateescape"))
            return exc.status
        finally:
            self.depth -= 1

    # ------------------------------------------------------------ lists
    async def _x_list(self, node, state, io, run_right=None) -> int:
        """``a && b`` / ``a || b``; ``run_right`` runs the right side (default: execute it)."""
        children = [c for c in node.children if c.type != "comment"]
        left, op, right = children[0], children[1].type, children[2]
        state.in_condition = getattr(state, "in_condition", 0) + 1
        try:
            status = await self.execute(left, state, io)
        finally:
            state.in_condition -= 1
        state.last_status = status
        if (op == "&&" and status == 0) or (op == "||" and status != 0):
            status = await (run_right(right) if run_right else self.execute(right, state, io))
            state.last_status = status
        return status

    async def _x_negated_command(self, node, state, io) -> int:
        inner = [c for c in node.children if c.is_named]
        state.in_condition = getattr(state, "in_condition", 0) + 1
        try:
            status = await self.execute(inner[0], state, io)
        finally:
            state.in_condition -= 1
        return 0 if status else 1

    async def _x_pipeline(self, node, state, io) -> int:
        stages = [c for c in node.children if c.is_named and c.type != "comment"]
        if stages and stages[0].type == "negated_command":
            # '! a | b' negates the whole pipeline; tree-sitter binds '!' to 'a' alone
            inner = [c for c in stages[0].children if c.is_named][0]
            state.in_condition = getattr(state, "in_condition", 0) + 1
            try:
                status = await self.run_pipeline([inner] + stages[1:], state, io)
            finally:
                state.in_condition -= 1
            return 0 if status else 1
        return await self.run_pipeline(stages, state, io)

    async def run_pipeline(self, stages, state, io, redirect_first=None) -> int:
        if len(stages) == 1:
            return await self.execute(stages[0], state, io)
        pipes = [Pipe() for _ in stages[:-1]]
        tasks = []
        for i, stage in enumerate(stages):
            stage_io = io.with_(
                stdin=io.stdin if i == 0 else pipes[i - 1].reader,
                stdout=io.stdout if i == len(stages) - 1 else pipes[i].writer,
            )
            tasks.append(asyncio.ensure_future(self._stage(stage, state.copy(), stage_io, i > 0,
                                                           i < len(stages) - 1)))
        try:
            pending = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    if task.exception() is not None:
                        raise task.exception()
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return tasks[-1].result()

    async def _stage(self, node, state, io: IO, owns_stdin: bool, owns_stdout: bool) -> int:
        status = 1
        try:
            status = await self.execute(node, state, io)
        except PipeClosed:
            status = 141
        except ExitSignal as exc:
            status = exc.status
        finally:
            if owns_stdin:
                io.stdin.close()
        if owns_stdout:
            try:
                await io.stdout.close()
            except PipeClosed:
                pass
        return status

    # ------------------------------------------------------------ compound
    async def _x_subshell(self, node, state, io) -> int:
        sub = state.copy()
        try:
            return await self.run_statements(node.children, sub, io)
        except ExitSignal as exc:
            return exc.status

    async def _x_compound_statement(self, node, state, io) -> int:
        if node.children and node.children[0].type == "((":
            value = await self.arith_node(node, state, 2, 2)
            return 0 if value else 1
        return await self.run_statements(node.children, state, io)

    async def _x_redirected_statement(self, node, state, io) -> int:
        body = node.child_by_field_name("body")
        redirects = [c for c in node.children if c.type in _REDIRECTS]
        # tree-sitter-bash puts what follows '<<EOF' on its line inside the heredoc node:
        # '| next', '&& next', '|| next' and extra words of the command
        piped = then = None
        extra_words = []
        for r in redirects:
            if r.type != "heredoc_redirect":
                continue
            for c in r.children:
                if c.type == "pipeline":
                    piped = c
                field = r.field_name_for_child(list(r.children).index(c))
                if field == "right":
                    then = (r.child_by_field_name("operator").type, c)
                elif field == "argument":
                    extra_words.append(c)
        for r in redirects:
            extra_words.extend(_extra_destinations(r))
        if extra_words:
            if body is None or body.type != "command":
                raise ShellSyntaxError("unsupported syntax: words after a redirection of a compound command")
            body = _WithWords(body, extra_words)
        if then is not None:
            op, right = then
            state.in_condition = getattr(state, "in_condition", 0) + 1
            try:
                status = await self._x_redirected_statement_core(body, redirects, piped, state, io)
            finally:
                state.in_condition -= 1
            state.last_status = status
            if (op == "&&" and status == 0) or (op == "||" and status != 0):
                status = await self.execute(right, state, io)
            return status
        return await self._x_redirected_statement_core(body, redirects, piped, state, io)

    async def _x_redirected_statement_core(self, body, redirects, piped, state, io) -> int:
        if piped is not None:
            rest = [c for c in piped.children if c.is_named]
            first = _Redirected(body, redirects)
            return await self.run_pipeline([first] + rest, state, io)
        if body is None:
            return await self.with_redirects(redirects, state, io, lambda new_io: self._noop())
        return await self._with_tail_redirects(body, redirects, state, io)

    async def _with_tail_redirects(self, node, redirects, state, io) -> int:
        """tree-sitter-bash hangs a trailing redirect on a whole list / pipeline / ``!``;
        in bash it belongs to the last command, so push it down to there."""
        if node.type == "list":
            return await self._x_list(
                node, state, io, lambda right: self._with_tail_redirects(right, redirects, state, io))
        if node.type == "pipeline":
            stages = [c for c in node.children if c.is_named and c.type != "comment"]
            return await self.run_pipeline(stages[:-1] + [_Redirected(stages[-1], redirects)],
                                           state, io)
        if node.type == "negated_command":
            inner = [c for c in node.children if c.is_named][0]
            status = await self._with_tail_redirects(inner, redirects, state, io)
            return 0 if status else 1
        return await self.with_redirects(redirects, state, io,
                                         lambda new_io: self.execute(node, state, new_io))

    async def _x__redirected(self, node, state, io) -> int:
        return await self._with_tail_redirects(node.body, node.redirects, state, io)

    async def _noop(self) -> int:
        return 0

    async def _x_if_statement(self, node, state, io) -> int:
        return await self._if_chain(node.children, state, io)

    async def _if_chain(self, children, state, io) -> int:
        cond, body, rest, phase = [], [], [], "cond"
        for child in children:
            if child.type == "then":
                phase = "body"
            elif child.type in ("elif_clause", "else_clause"):
                rest.append(child)
            elif child.type in ("if", "elif", "fi"):
                continue
            elif phase == "cond":
                cond.append(child)
            else:
                body.append(child)
        if await self._condition(cond, state, io) == 0:
            return await self.run_statements(body, state, io)
        for clause in rest:
            if clause.type == "elif_clause":
                cond2, body2, phase2 = [], [], "cond"
                for child in clause.children:
                    if child.type == "then":
                        phase2 = "body"
                    elif child.type == "elif":
                        continue
                    elif phase2 == "cond":
                        cond2.append(child)
                    else:
                        body2.append(child)
                if await self._condition(cond2, state, io) == 0:
                    return await self.run_statements(body2, state, io)
            else:
                return await self.run_statements(clause.children, state, io)
        return 0

    async def _condition(self, nodes, state, io) -> int:
        state.in_condition = getattr(state, "in_condition", 0) + 1
        try:
            return await self.run_statements(nodes, state, io)
        finally:
            state.in_condition -= 1

    async def _loop_body(self, body, state, io) -> tuple[int, str | None]:
        """Run a do_group; returns (status, 'break'|'continue'|None) for this loop."""
        try:
            return await self.run_statements(body.children, state, io), None
        except LoopSignal as sig:
            if sig.levels > 1:
                sig.levels -= 1
                raise
            return 0, sig.kind

    async def _x_for_statement(self, node, state, io) -> int:
        var = node.child_by_field_name("variable")
        body = node.child_by_field_name("body")
        has_in = any(c.type == "in" for c in node.children)
        if has_in:
            values = await self.expand_words(
                [c for c in node.children_by_field_name("value")], state)
        else:
            values = list(state.positional)
        status = 0
        name = text_of(var)
        for value in values:
            await self.tick()
            state.set(name, value)
            status, flow = await self._loop_body(body, state, io)
            if flow == "break":
                break
        return status

    async def _x_c_style_for_statement(self, node, state, io) -> int:
        marks = [c for c in node.children if c.type in ("((", ";", "))")][:4]
        if len(marks) < 4:
            raise ShellSyntaxError("syntax error in for (( ))")
        spans = [(a.end_byte, b.start_byte) for a, b in zip(marks, marks[1:])]
        body = node.child_by_field_name("body")

        async def run(span, empty: int) -> int:
            text = await self._arith_text(node, state, *span)
            if not text.strip():
                return empty
            return arith.evaluate(text, lambda n: self.special_values(n, state), state.set)

        await run(spans[0], 0)
        status = 0
        while True:
            await self.tick()
            if not await run(spans[1], 1):
                break
            status, flow = await self._loop_body(body, state, io)
            if flow == "break":
                break
            await run(spans[2], 0)
        return status

    async def _x_while_statement(self, node, state, io) -> int:
        until = node.children[0].type == "until"
        cond = node.child_by_field_name("condition")
        conds = [c for c in node.children_by_field_name("condition")] or ([cond] if cond else [])
        body = node.child_by_field_name("body")
        status = 0
        while True:
            await self.tick()
            result = await self._condition(conds, state, io)
            if (result == 0) == until:
                break
            status, flow = await self._loop_body(body, state, io)
            if flow == "break":
                break
        return status

    async def _x_case_statement(self, node, state, io) -> int:
        value = await self.expand_string(node.child_by_field_name("value"), state)
        items = [c for c in node.children if c.type == "case_item"]
        status = 0
        fall = False
        for index, item in enumerate(items):
            patterns = item.children_by_field_name("value")
            matched = fall
            if not matched:
                for pat in patterns:
                    if glob_match(await self.expand_pattern(pat, state), value):
                        matched = True
                        break
            if not matched:
                continue
            body_nodes = []
            after_paren = False
            term = ";;"
            for child in item.children:
                if child.type == ")" and not after_paren:
                    after_paren = True
                    continue
                if not after_paren:
                    continue
                if child.type in (";;", ";&", ";;&"):
                    term = child.type
                    continue
                body_nodes.append(child)
            status = await self.run_statements(body_nodes, state, io)
            if term == ";&":
                fall = True
                continue
            if term == ";;&":
                fall = False
                continue
            return status
        return status

    async def _x_function_definition(self, node, state, io) -> int:
        name = text_of(node.child_by_field_name("name"))
        state.functions[name] = node.child_by_field_name("body")
        return 0

    async def call_function(self, body, args: list[str], state: ShellState, io: IO) -> int:
        saved = state.positional
        state.positional = list(args)
        state.push_scope()
        try:
            if body.type == "subshell":
                return await self._x_subshell(body, state, io)
            return await self.run_statements(body.children, state, io)
        except ReturnSignal as sig:
            return sig.status
        finally:
            state.pop_scope()
            state.positional = saved

    async def _x_test_command(self, node, state, io) -> int:
        opener = node.children[0].type
        inner = [c for c in node.children if c.is_named]
        if opener == "[":
            words: list[str] = []
            for child in inner:
                words.extend(await self._test_words(child, state))
            cmd = lookup("[")
            return await self.invoke(cmd, "[", words + ["]"], state, io)
        if not inner:
            return 1
        try:
            return 0 if await self._dbl_test(inner[0], state) else 1
        except CommandError as exc:
            await io.stderr.write(f"mirage: {exc.message}\n".encode())
            return 2

    async def _test_words(self, node, state) -> list[str]:
        if node.type in ("word", "string", "raw_string", "simple_expansion", "expansion",
                         "concatenation", "number", "command_substitution", "arithmetic_expansion",
                         "regex", "extglob_pattern", "ansi_c_string"):
            return await self.expand_words([node], state)
        if not node.children:
            return [text_of(node)]
        out: list[str] = []
        for child in node.children:
            out.extend(await self._test_words(child, state))
        return out

    async def _dbl_test(self, node, state) -> bool:
        kind = node.type
        if kind == "parenthesized_expression":
            inner = [c for c in node.children if c.is_named]
            return await self._dbl_test(inner[0], state)
        if kind == "unary_expression":
            op_node = node.child_by_field_name("operator") or node.children[0]
            operand = [c for c in node.children if c.id != op_node.id]
            op = text_of(op_node)
            if op == "!":
                return not await self._dbl_test(operand[0], state)
            value = await self.expand_string(operand[0], state)
            return await unary_test(op, value, self.fs, state)
        if kind == "binary_expression":
            op_node = node.child_by_field_name("operator")
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            op = text_of(op_node)
            if op == "&&":
                return await self._dbl_test(left, state) and await self._dbl_test(right, state)
            if op == "||":
                return await self._dbl_test(left, state) or await self._dbl_test(right, state)
            lhs = await self.expand_string(left, state)
            if op in ("==", "=", "!="):
                pattern = await self.expand_pattern(right, state)
                result = glob_match(pattern, lhs)
                return result if op != "!=" else not result
            if op == "=~":
                regex = await self.expand_string(right, state)
                try:
                    m = compile_user_regex(regex).search(lhs)
                except re.error:
                    raise CommandError(f"invalid regex: {regex}", 2) from None
                except RegexTooSlow as exc:
                    raise CommandError(str(exc), 2) from None
                if m:
                    state.set("BASH_REMATCH", m.group(0))
                return m is not None
            rhs = await self.expand_string(right, state)
            return binary_test(op, lhs, rhs)
        # a lone word: true if non-empty
        return bool(await self.expand_string(node, state))

    # ------------------------------------------------------------ simple commands
    async def _x_variable_assignment(self, node, state, io) -> int:
        self._subst_status = None
        await self.assign(node, state)
        return self._subst_status or 0

    async def _x_variable_assignments(self, node, state, io) -> int:
        self._subst_status = None
        for child in node.children:
            if child.type == "variable_assignment":
                await self.assign(child, state)
        return self._subst_status or 0

    async def assign_value(self, node, state) -> tuple[str, str, bool]:
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        append = any(c.type == "+=" for c in node.children)
        value = await self.expand_string(value_node, state) if value_node is not None else ""
        name = text_of(name_node)
        return name, value, append

    async def assign(self, node, state) -> None:
        name, value, append = await self.assign_value(node, state)
        if append:
            value = (state.get(name) or "") + value
        state.set(name, value)

    async def command_substitution(self, node, state) -> str:
        capture = Capture(self.budget)
        sub = state.copy()
        io = IO(BytesIn(b""), capture, self._line_stderr)
        body = [c for c in node.children if c.is_named]
        try:
            status = await self.run_statements(body, sub, io)
        except ExitSignal as exc:
            status = exc.status
        self._subst_status = status
        state.last_status = status
        return capture.data.decode("utf-8", "surrogateescape").rstrip("\n")

    async def _x_declaration_command(self, node, state, io) -> int:
        keyword = node.children[0].type
        args: list[str] = []
        for child in node.children[1:]:
            if child.type == "variable_assignment":
                name, value, append = await self.assign_value(child, state)
                if append:
                    value = (state.get(name) or "") + value
                if keyword == "local":
                    state.declare_local(name)
                state.set(name, value)
                args.append(name)
            elif child.type == "variable_name":
                args.append(text_of(child))
                if keyword == "local":
                    state.declare_local(text_of(child))
                    state.vars.setdefault(text_of(child), "")
            else:
                args.extend(await self.expand_words([child], state))
        cmd = lookup(keyword)
        if cmd is None:
            raise ShellSyntaxError(f"unsupported syntax: {keyword}")
        return await self.invoke(cmd, keyword, args, state, io)

    async def _x_unset_command(self, node, state, io) -> int:
        args = await self.expand_words([c for c in node.children[1:]], state)
        cmd = lookup("unset")
        return await self.invoke(cmd, "unset", args, state, io)

    async def _x__with_words(self, node, state, io) -> int:
        return await self._x_command(node.command, state, io, node.extra)

    async def _x_command(self, node, state, io, extra_words=()) -> int:
        assignments, words, redirects = [], [], []
        for child in node.children:
            if child.type == "variable_assignment":
                assignments.append(child)
            elif child.type == "command_name":
                words.append(child.children[0] if child.children else child)
            elif child.type in _REDIRECTS:
                redirects.append(child)
                words.extend(_extra_destinations(child))
            elif child.is_named and child.type != "comment":
                words.append(child)
        words.extend(extra_words)
        if redirects:
            return await self.with_redirects(
                redirects, state, io,
                lambda new_io: self._simple(assignments, words, state, new_io))
        return await self._simple(assignments, words, state, io)

    async def _simple(self, assignments, words, state, io) -> int:
        self._subst_status = None
        argv = await self.expand_words(words, state)
        if not argv:
            for a in assignments:
                await self.assign(a, state)
            return self._subst_status or 0
        saved: dict[str, str | None] = {}
        was_exported: set[str] = set()
        for a in assignments:
            name, value, append = await self.assign_value(a, state)
            if name not in saved:
                saved[name] = state.get(name)
                if name in state.exported:
                    was_exported.add(name)
            state.set(name, (state.get(name) or "") + value if append else value)
            state.exported.add(name)
        try:
            return await self.run_command(argv, state, io)
        finally:
            for name, old in saved.items():
                if old is None:
                    state.vars.pop(name, None)
                else:
                    state.vars[name] = old
                if name not in was_exported:
                    state.exported.discard(name)

    async def run_command(self, argv: list[str], state: ShellState, io: IO) -> int:
        name, args = argv[0], argv[1:]
        body = state.functions.get(name)
        if body is not None:
            return await self.call_function(body, args, state, io)
        cmd = lookup(name) if "/" not in name else None
        if cmd is None:
            await io.stderr.write(f"mirage: {name}: command not found\n"
                                  .encode("utf-8", "surrogateescape"))
            return 127
        return await self.invoke(cmd, name, args, state, io)

    async def invoke(self, cmd, name: str, args: list[str], state: ShellState, io: IO) -> int:
        inv = Invocation(name=name, args=args, stdin=io.stdin, stdout=io.stdout,
                         stderr=io.stderr, state=state, fs=self.fs, interp=self)
        try:
            return await cmd(inv)
        except Usage as exc:
            await inv.error(exc.message)
            return 2 if name in USAGE_STATUS_2 else 1
        except CommandError as exc:
            await inv.error(exc.message)
            return exc.status
        except VfsError as exc:
            await inv.error(f"{exc.path}: {exc.detail}")
            return 1
        except _CONTROL:
            raise
        except RegexTooSlow as exc:
            await inv.error(str(exc))
            return 2
        except (ValueError, TypeError, IndexError, KeyError, AttributeError, ArithmeticError,
                UnicodeError, RecursionError, re.error) as exc:
            # a command choked on its arguments: report it, never take the line (or a 500) down
            log.warning("shell command failed name=%s error=%s", name, type(exc).__name__)
            await inv.error(f"invalid arguments ({type(exc).__name__}: {exc})")
            return 2

    # ------------------------------------------------------------ redirections
    async def with_redirects(self, redirects, state, io: IO, run) -> int:
        opened: list = []
        try:
            try:
                for redirect in redirects:
                    io = await self._apply_redirect(redirect, state, io, opened)
            except VfsError as exc:
                await io.stderr.write(f"mirage: {exc.path}: {exc.detail}\n"
                                      .encode("utf-8", "surrogateescape"))
                return 1
            except CommandError as exc:
                await io.stderr.write(f"mirage: {exc.message}\n".encode("utf-8", "surrogateescape"))
                return exc.status
            return await run(io)
        finally:
            for stream in opened:
                try:
                    await stream.close()
                except VfsError:
                    pass

    async def _apply_redirect(self, node, state, io: IO, opened: list) -> IO:
        if node.type == "herestring_redirect":
            value = [c for c in node.children if c.is_named and c.type != "file_descriptor"]
            text = await self.expand_string(value[-1], state) if value else ""
            return io.with_(stdin=BytesIn((text + "\n").encode("utf-8", "surrogateescape")))
        if node.type == "heredoc_redirect":
            data = await self._heredoc(node, state)
            io = io.with_(stdin=BytesIn(data))
            for child in node.children:
                if child.type == "file_redirect":
                    io = await self._apply_redirect(child, state, io, opened)
            return io
        fd_node = node.child_by_field_name("descriptor")
        op = next(c.type for c in node.children if not c.is_named)
        dests = node.children_by_field_name("destination")
        fd = int(text_of(fd_node)) if fd_node is not None else (0 if op.startswith("<") else 1)
        target = await self.expand_string(dests[0], state) if dests else ""
        if op in (">&", "<&") and re.fullmatch(r"\d+|-", target):
            if target == "-":
                return self._set_fd(io, fd, NullOut() if fd else BytesIn(b""))
            source = io.fd(int(target))
            if source is None:
                raise CommandError(f"{target}: Bad file descriptor", 1)
            return self._set_fd(io, fd, source)
        if not target:
            raise CommandError("ambiguous redirect", 1)
        if op in ("<", "<&"):
            return self._set_fd(io, fd, await self._open_in(target, state))
        append = op in (">>", "&>>")
        if target in ("/dev/stdout", "/dev/stderr"):     # the current fd 1 / 2, as in bash
            stream = io.stdout if target == "/dev/stdout" else io.stderr
        else:
            stream = await self._open_out(target, state, append, opened)
        if op in ("&>", "&>>") or (op == ">&" and fd_node is None):
            return io.with_(stdout=stream, stderr=stream)
        return self._set_fd(io, fd, stream)

    def _set_fd(self, io: IO, fd: int, stream) -> IO:
        if fd == 0:
            return io.with_(stdin=stream)
        if fd == 1:
            return io.with_(stdout=stream)
        if fd == 2:
            return io.with_(stderr=stream)
        return io

    async def _open_in(self, target: str, state) -> InStream:
        if target in ("/dev/null",):
            return BytesIn(b"")
        if target == "/dev/stdin":
            raise CommandError("/dev/stdin: not supported as a redirect", 1)
        path = state.resolve(target)
        return BytesIn(await self.fs.read(path))

    async def _open_out(self, target: str, state, append: bool, opened: list):
        if target == "/dev/null":
            return NullOut()
        if target in ("/dev/stdout", "/dev/stderr"):
            return self._line_stdout if target.endswith("out") else self._line_stderr
        path = state.resolve(target)
        stream = await FileOut.open(self.fs, path, append=append, budget=self.file_budget)
        opened.append(stream)
        return stream

    async def _heredoc(self, node, state) -> bytes:
        start = next(c for c in node.children if c.type == "heredoc_start")
        body = next((c for c in node.children if c.type == "heredoc_body"), None)
        strip_tabs = any(c.type == "<<-" for c in node.children)
        if body is None:
            return b""
        delim = text_of(start)
        quoted = any(ch in delim for ch in "'\"\\")
        if quoted:
            text = text_of(body)
        else:
            pieces: list[str] = []
            raw = body.text
            base = body.start_byte
            pos = 0
            for child in body.children:
                if child.type not in ("simple_expansion", "expansion", "command_substitution",
                                      "arithmetic_expansion"):
                    continue
                gap = raw[pos:child.start_byte - base].decode("utf-8", "surrogateescape")
                pieces.append(_heredoc_unescape(gap))
                pieces.append(await self.expand_string(child, state))
                pos = child.end_byte - base
            pieces.append(_heredoc_unescape(raw[pos:].decode("utf-8", "surrogateescape")))
            text = "".join(pieces)
        if strip_tabs:
            text = "\n".join(line.lstrip("\t") for line in text.split("\n"))
        return text.encode("utf-8", "surrogateescape")

    # ------------------------------------------------------------ helpers for commands
    async def run_argv(self, argv: list[str], state: ShellState, io: IO) -> int:
        """Run one command (used by xargs and friends)."""
        return await self.run_command(argv, state, io)

    def _reparse_words(self, text: str):
        root = parser.parse(": " + text)
        cmd = root.children[0] if root.children else None
        while cmd is not None and cmd.type not in ("command",):
            cmd = cmd.children[0] if cmd.children else None
        if cmd is None:
            return []
        return [c for c in cmd.children_by_field_name("argument")]


class _WithWords:
    """A simple command plus words tree-sitter attached to its here-doc."""

    type = "_with_words"
    is_named = True

    def __init__(self, command, extra):
        self.command = command
        self.extra = extra


class _Redirected:
    """A pipeline stage made of a body and the redirects tree-sitter attached elsewhere."""

    type = "_redirected"
    is_named = True

    def __init__(self, body, redirects):
        self.body = body
        self.redirects = redirects


def _extra_destinations(redirect) -> list:
    """'echo a > f b': tree-sitter makes 'b' a second destination; it is an argument."""
    if redirect.type != "file_redirect":
        return []
    return redirect.children_by_field_name("destination")[1:]


def _heredoc_unescape(text: str) -> str:
    return re.sub(r"\\([$`\\\n])", lambda m: "" if m.group(1) == "\n" else m.group(1), text)
