"""true, false and ':' — exit statuses only."""

NAMES = ("true", "false", ":")


async def run(inv) -> int:
    return 1 if inv.name == "false" else 0
