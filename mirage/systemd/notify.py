"""sd_notify(3) through the ``sdnotify`` package; a no-op when NOTIFY_SOCKET is unset.

sdnotify connects a datagram socket to NOTIFY_SOCKET (a path, or ``@name`` for an
abstract socket) and ignores send errors, which is what a notifier should do: the
service keeps serving if systemd's socket goes away.
"""

from __future__ import annotations

import os
import time
from collections.abc import MutableMapping

import sdnotify


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Notifier:
    def __init__(self, notifier: sdnotify.SystemdNotifier | None):
        self._notifier = notifier

    @classmethod
    def disabled(cls) -> Notifier:
        return cls(None)

    @classmethod
    def from_environment(cls, environ: MutableMapping[str, str]) -> Notifier:
        """Connect to NOTIFY_SOCKET and remove it from ``environ`` (children must not notify)."""
        address = environ.pop("NOTIFY_SOCKET", None)
        if not address:
            return cls.disabled()
        # sdnotify reads the address from os.environ when it is built
        saved = os.environ.get("NOTIFY_SOCKET")
        os.environ["NOTIFY_SOCKET"] = address
        try:
            notifier = sdnotify.SystemdNotifier()
        finally:
            if saved is None:
                os.environ.pop("NOTIFY_SOCKET", None)
            else:
                os.environ["NOTIFY_SOCKET"] = saved
        return cls(notifier if notifier.socket is not None else None)

    @property
    def enabled(self) -> bool:
        return self._notifier is not None

    def send(self, *assignments: str) -> None:
        if self._notifier is not None:
            self._notifier.notify("\n".join(assignments))

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={_one_line(status)}")

    def status(self, status: str) -> None:
        self.send(f"STATUS={_one_line(status)}")

    def reloading(self) -> None:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.send("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self, status: str) -> None:
        self.send("STOPPING=1", f"STATUS={_one_line(status)}")

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")


def take_watchdog_interval(environ: MutableMapping[str, str], pid: int) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None when no
    watchdog is asked of this process. Removes WATCHDOG_USEC/WATCHDOG_PID from ``environ``."""
    usec = environ.pop("WATCHDOG_USEC", None)
    watchdog_pid = environ.pop("WATCHDOG_PID", None)
    if not usec or not usec.strip().isdigit() or int(usec) <= 0:
        return None
    if watchdog_pid and (not watchdog_pid.strip().isdigit() or int(watchdog_pid) != pid):
        return None
    return int(usec) / 2 / 1_000_000
