"""A real AF_UNIX datagram NOTIFY_SOCKET listener, to time start-up to READY=1."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path


class NotifyListener:
    """Bind a datagram socket at ``path``; record when each sd_notify field first arrives."""

    def __init__(self, path: Path):
        self.path = path
        self.first_seen: dict[str, float] = {}      # "READY=1" -> monotonic time
        self.messages: list[tuple[float, str]] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        path.unlink(missing_ok=True)
        self._sock.bind(str(path))
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="notify-listener", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            now = time.monotonic()
            text = data.decode("utf-8", "replace")
            self.messages.append((now, text))
            for line in text.splitlines():
                self.first_seen.setdefault(line, now)
                if line == "READY=1":
                    self._ready.set()

    def wait_ready(self, timeout: float) -> float | None:
        """The monotonic time READY=1 arrived, or None after ``timeout`` seconds."""
        if self._ready.wait(timeout):
            return self.first_seen["READY=1"]
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        self._sock.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> NotifyListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
