"""Cooperative scheduling for a running line: yield to the event loop every few
milliseconds of work, and end the line once its deadline has passed."""

from __future__ import annotations

import asyncio
import time

from mirage.workspace.shell.errors import LineTimedOut

SLICE_SECONDS = 0.001


class Ticker:
    def __init__(self, timeout_seconds: float | None) -> None:
        self.timeout = timeout_seconds
        self.deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        self.last_yield = time.monotonic()

    async def tick(self) -> None:
        now = time.monotonic()
        if now - self.last_yield >= SLICE_SECONDS:
            await asyncio.sleep(0)
            self.last_yield = time.monotonic()
            if self.deadline is not None and self.last_yield > self.deadline:
                raise LineTimedOut(f"line exceeded the time limit of {self.timeout:g} s")
