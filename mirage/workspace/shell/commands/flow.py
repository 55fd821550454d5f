"""exit, return, break, continue, shift — control flow builtins."""

from __future__ import annotations

from mirage.workspace.shell.errors import ExitSignal, LoopSignal, ReturnSignal

NAMES = ("exit", "return", "break", "continue", "shift")


async def run(inv) -> int:
    arg = inv.args[0] if inv.args else None
    if arg is not None and not arg.lstrip("-").isdigit():
        await inv.error(f"{arg}: numeric argument required")
        if inv.name == "exit":
            raise ExitSignal(2)
        return 2 if inv.name != "shift" else 1
    if inv.name == "exit":
        raise ExitSignal(int(arg) & 0xFF if arg is not None else inv.state.last_status)
    if inv.name == "return":
        raise ReturnSignal(int(arg) & 0xFF if arg is not None else inv.state.last_status)
    if inv.name == "shift":
        n = int(arg) if arg is not None else 1
        if n > len(inv.state.positional) or n < 0:
            return 1
        inv.state.positional = inv.state.positional[n:]
        return 0
    levels = int(arg) if arg is not None else 1
    if levels < 1:
        await inv.error(f"{arg}: loop count out of range")
        return 1
    raise LoopSignal(inv.name, levels)
