"""Parsing shell lines with tree-sitter-bash, and rejecting what Mirage does not run.

The grammar is the maintained ``tree-sitter-bash``; the interpreter walks its
concrete syntax tree directly. A line with a syntax error, or with a construct
the interpreter does not implement, raises :class:`ShellSyntaxError` naming it.
"""

from __future__ import annotations

import tree_sitter
import tree_sitter_bash

from mirage.workspace.shell.errors import ShellSyntaxError

_LANGUAGE = tree_sitter.Language(tree_sitter_bash.language())

UNSUPPORTED = {
    "process_substitution": "process substitution <( ) / >( )",
    "array": "arrays",
    "subscript": "array subscripts",
    "coproc": "coproc",
    "select_statement": "select",
    "translated_string": "translated strings $\"...\"",
}


def parse(line: str) -> tree_sitter.Node:
    """The root node of the line's syntax tree, checked for errors and unsupported syntax."""
    source = line.encode("utf-8", "surrogateescape")
    tree = tree_sitter.Parser(_LANGUAGE).parse(source)
    root = tree.root_node
    _check(root, source)
    return root


def _check(root: tree_sitter.Node, source: bytes) -> None:
    stack = [root]
    while stack:
        node = stack.pop()
        kind = node.type
        if node.is_missing:
            raise ShellSyntaxError(f"syntax error: missing '{kind}'")
        if kind == "ERROR":
            near = source[node.start_byte:node.end_byte].decode("utf-8", "replace").strip()
            near = near.splitlines()[0][:40] if near else "end of line"
            raise ShellSyntaxError(f"syntax error near '{near}'")
        if kind in UNSUPPORTED:
            raise ShellSyntaxError(f"unsupported syntax: {UNSUPPORTED[kind]}")
        if kind == "&" and node.parent is not None and node.parent.type in (
                "program", "compound_statement", "do_group", "subshell", "if_statement",
                "elif_clause", "else_clause", "case_item", "function_definition"):
            raise ShellSyntaxError(
                "unsupported syntax: background '&' inside a line (use ?background=true)")
        if kind == "for_statement" and node.children and node.children[0].type == "select":
            raise ShellSyntaxError("unsupported syntax: select")
        if kind == "|&":
            raise ShellSyntaxError("unsupported syntax: '|&'")
        stack.extend(node.children)
