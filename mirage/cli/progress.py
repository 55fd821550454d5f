"""Feedback on stderr for waits longer than a second (silent for fast ones)."""

from __future__ import annotations

import io
import sys
import time


class Progress:
    def __init__(self, message: str, *, after_s: float = 1.0, stream: io.TextIOBase | None = None):
        self._message = message
        self._stream = stream or sys.stderr
        self._start = time.monotonic()
        self._after = after_s
        self._shown = False
        self._last_dot = 0.0
        try:
            self._tty = self._stream.isatty()
        except (AttributeError, ValueError):
            self._tty = False

    def tick(self) -> None:
        now = time.monotonic()
        if now - self._start < self._after:
            return
        if not self._shown:
            self._shown = True
            self._last_dot = now
            self._write(f"mirage: {self._message}" + ("" if self._tty else "\n"))
        elif self._tty and now - self._last_dot >= 1.0:
            self._last_dot = now
            self._write(".")

    def finish(self, outcome: str) -> None:
        """Close the line (if anything was shown) with ``outcome``."""
        if not self._shown:
            return
        elapsed = time.monotonic() - self._start
        if self._tty:
            self._write(f" {outcome} ({elapsed:.1f} s)\n")
        else:
            self._write(f"mirage: {outcome} ({elapsed:.1f} s)\n")

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            pass
