"""The command table: every module in this package that defines ``NAMES`` and an
async ``run(inv) -> int`` is a command. Adding a command is adding a file."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable

Command = Callable[..., Awaitable[int]]

_TABLE: dict[str, Command] | None = None


def _load() -> dict[str, Command]:
    table: dict[str, Command] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name in getattr(module, "NAMES", ()):
            table[name] = module.run
    return table


def table() -> dict[str, Command]:
    global _TABLE
    if _TABLE is None:
        _TABLE = _load()
    return _TABLE


def lookup(name: str) -> Command | None:
    return table().get(name)
