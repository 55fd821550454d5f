"""set [-eu] [-o pipefail] [-- ARG...] — shell options and positional parameters."""

from __future__ import annotations

NAMES = ("set",)

_KNOWN = set("euxvfhBC")


async def run(inv) -> int:
    state = inv.state
    args = list(inv.args)
    if not args:
        for name in sorted(state.vars):
            await inv.out(f"{name}={state.vars[name]}\n")
        return 0
    while args:
        arg = args[0]
        if arg == "--":
            state.positional = args[1:]
            return 0
        if arg in ("-o", "+o"):
            if len(args) < 2:
                return 0
            option = args[1]
            if option not in ("pipefail", "errexit", "nounset", "xtrace", "noglob"):
                await inv.error(f"{option}: invalid option name")
                return 2
            letter = {"errexit": "e", "nounset": "u", "pipefail": "P", "xtrace": "x",
                      "noglob": "f"}[option]
            (state.options.add if arg == "-o" else state.options.discard)(letter)
            args = args[2:]
            continue
        if arg[:1] in "-+" and len(arg) > 1:
            for c in arg[1:]:
                if c not in _KNOWN:
                    await inv.error(f"-{c}: invalid option")
                    return 2
                (state.options.add if arg[0] == "-" else state.options.discard)(c)
            args.pop(0)
            continue
        state.positional = args
        return 0
    return 0
