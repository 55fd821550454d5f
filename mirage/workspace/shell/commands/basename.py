"""basename NAME [SUFFIX] | basename -a [-s SUFFIX] NAME...; dirname NAME..."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import Usage, parse_flags

NAMES = ("basename", "dirname")


def base(name: str, suffix: str = "") -> str:
    stripped = name.rstrip("/")
    if not stripped:
        return "/" if name else ""
    result = stripped.rsplit("/", 1)[-1]
    if suffix and result != suffix and result.endswith(suffix):
        result = result[: -len(suffix)]
    return result


def dirname(name: str) -> str:
    stripped = name.rstrip("/")
    if not stripped:
        return "/" if name.startswith("/") else "."
    if "/" not in stripped:
        return "."
    head = stripped.rsplit("/", 1)[0].rstrip("/")
    return head or "/"


async def run(inv) -> int:
    if inv.name == "dirname":
        names = [a for a in inv.args if a != "--"]
        if not names:
            raise Usage("missing operand")
        for name in names:
            await inv.out(dirname(name) + "\n")
        return 0
    opts, names = parse_flags(inv.args, "az", with_value="s", long={"multiple": "a", "suffix": "s"})
    if not names:
        raise Usage("missing operand")
    suffix = opts.get("s", "")
    if opts.get("a") or "s" in opts:
        for name in names:
            await inv.out(base(name, suffix) + "\n")
        return 0
    if len(names) > 2:
        raise Usage(f"extra operand '{names[2]}'")
    await inv.out(base(names[0], names[1] if len(names) > 1 else "") + "\n")
    return 0
