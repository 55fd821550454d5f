"""pwd — print the working directory."""

NAMES = ("pwd",)


async def run(inv) -> int:
    await inv.out(inv.state.cwd + "\n")
    return 0
