"""touch [-c] FILE... — create empty files (existing files keep their bytes)."""

from __future__ import annotations

from mirage.workspace.shell.commands._base import Usage, parse_flags
from mirage.workspace.vfs.base import VfsError

NAMES = ("touch",)


async def run(inv) -> int:
    opts, names = parse_flags(inv.args, "camh", with_value="dtr", long={"no-create": "c"})
    if not names:
        raise Usage("missing file operand")
    status = 0
    for name in names:
        try:
            await inv.fs.write(inv.path(name), b"", append=True) if not opts.get("c") else None
        except VfsError as exc:
            await inv.error(f"cannot touch '{name}': {exc.detail}")
            status = 1
    return status
