"""mkdir [-p] [-v] DIR... / rmdir [-p] DIR..."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import Usage, parse_flags
from mirage.workspace.vfs.base import VfsError

NAMES = ("mkdir", "rmdir")


async def run(inv) -> int:
    opts, names = parse_flags(inv.args, "pv", with_value="m", long={"parents": "p", "verbose": "v",
                                                                    "mode": "m"})
    if not names:
        raise Usage("missing operand")
    status = 0
    for name in names:
        path = inv.path(name)
        try:
            if inv.name == "mkdir":
                await inv.fs.mkdir(path, parents=bool(opts.get("p")), exist_ok=bool(opts.get("p")))
                if opts.get("v"):
                    await inv.out(f"mkdir: created directory '{name}'\n")
            else:
                await inv.fs.rmdir(path)
                if opts.get("p"):
                    parent = name.rstrip("/").rsplit("/", 1)
                    while len(parent) == 2 and parent[0]:
                        await inv.fs.rmdir(inv.path(parent[0]))
                        parent = parent[0].rsplit("/", 1)
        except VfsError as exc:
            verb = "cannot create directory" if inv.name == "mkdir" else "failed to remove"
            await inv.error(f"{verb} '{name}': {exc.detail}")
            status = 1
    return status
