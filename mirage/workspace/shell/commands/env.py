"""env [NAME=VALUE]... [COMMAND [ARG]...] — print or adjust the (workspace) environment."""

from __future__ import annotations

from mirage.workspace.shell.io import IO

NAMES = ("env", "printenv")


async def run(inv) -> int:
    args = list(inv.args)
    if inv.name == "printenv":
        env = inv.state.environ()
        if args:
            status = 0
            for name in args:
                if name in env:
                    await inv.out(env[name] + "\n")
                else:
                    status = 1
            return status
        for name, value in env.items():
            await inv.out(f"{name}={value}\n")
        return 0
    clear = False
    while args and args[0] in ("-i", "-", "--ignore-environment"):
        clear = True
        args.pop(0)
    assignments = {}
    while args and "=" in args[0] and not args[0].startswith("="):
        name, _, value = args.pop(0).partition("=")
        assignments[name] = value
    state = inv.state.copy()
    if clear:
        state.exported.clear()
    for name, value in assignments.items():
        state.set(name, value)
        state.exported.add(name)
    if not args:
        for name, value in state.environ().items():
            await inv.out(f"{name}={value}\n")
        return 0
    return await inv.interp.run_argv(args, state, IO(inv.stdin, inv.stdout, inv.stderr))
