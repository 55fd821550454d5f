"""yes [STRING]... — repeat a line until the reader goes away (or the line's limits end it)."""

NAMES = ("yes",)


async def run(inv) -> int:
    line = ((" ".join(inv.args) if inv.args else "y") + "\n").encode("utf-8", "surrogateescape")
    block = line * max(1, 4096 // len(line))
    while True:
        await inv.out(block)
