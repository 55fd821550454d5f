"""The mutable state of one shell: variables, functions, cwd, positional parameters."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from mirage.workspace.paths import collapse


def normalize(path: str, cwd: str = "/") -> str:
    """An absolute, normalised workspace path (relative ones taken from ``cwd``); ``..``
    never climbs above ``/``. Lexical only: the FS validates when the path is used."""
    return collapse(path if path.startswith("/") else posixpath.join(cwd, path))


@dataclass
class ShellState:
    cwd: str = "/"
    vars: dict[str, str] = field(default_factory=dict)
    exported: set[str] = field(default_factory=set)
    functions: dict[str, object] = field(default_factory=dict)
    positional: list[str] = field(default_factory=list)
    script_name: str = "mirage"
    last_status: int = 0
    locals_stack: list[dict[str, str | None]] = field(default_factory=list)
    options: set[str] = field(default_factory=set)

    def copy(self) -> "ShellState":
        """A subshell's state: changes to it never reach the parent."""
        return ShellState(
            cwd=self.cwd,
            vars=dict(self.vars),
            exported=set(self.exported),
            functions=dict(self.functions),
            positional=list(self.positional),
            script_name=self.script_name,
            last_status=self.last_status,
            locals_stack=[],
            options=set(self.options),
        )

    def get(self, name: str) -> str | None:
        return self.vars.get(name)

    def set(self, name: str, value: str) -> None:
        self.vars[name] = value

    def unset(self, name: str) -> None:
        self.vars.pop(name, None)
        self.exported.discard(name)

    def declare_local(self, name: str) -> None:
        if not self.locals_stack:
            return
        scope = self.locals_stack[-1]
        if name not in scope:
            scope[name] = self.vars.get(name)

    def push_scope(self) -> None:
        self.locals_stack.append({})

    def pop_scope(self) -> None:
        scope = self.locals_stack.pop()
        for name, old in scope.items():
            if old is None:
                self.vars.pop(name, None)
            else:
                self.vars[name] = old

    def environ(self) -> dict[str, str]:
        return {name: self.vars[name] for name in sorted(self.exported) if name in self.vars}

    def resolve(self, path: str) -> str:
        return normalize(path, self.cwd)
