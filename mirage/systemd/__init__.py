"""Everything that knows about systemd: socket activation, sd_notify, the journal stream.

Only :mod:`mirage.server.daemon` uses this package. The variables read here
(``LISTEN_*``, ``NOTIFY_SOCKET``, ``WATCHDOG_*``, ``JOURNAL_STREAM``) are systemd's
protocol with the process, not configuration; configuration is read by
:mod:`mirage.settings` only.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import TextIO

from mirage.systemd.activation import ActivationError, InheritedSocket, take_listen_sockets
from mirage.systemd.journal import journal_from_environment, stderr_is_journal
from mirage.systemd.notify import Notifier, take_watchdog_interval

__all__ = [
    "ActivationError", "InheritedSocket", "Notifier", "SystemdContext", "take_environment",
    "journal_from_environment",
    "stderr_is_journal",
]


@dataclass
class SystemdContext:
    """What systemd handed this process at start."""

    sockets: list[InheritedSocket] = field(default_factory=list)
    notifier: Notifier = field(default_factory=Notifier.disabled)
    watchdog_interval: float | None = None   # seconds between WATCHDOG=1 (half of WATCHDOG_USEC)
    journal: bool = False

    @property
    def socket_activated(self) -> bool:
        return bool(self.sockets)


def take_environment(environ: MutableMapping[str, str] | None = None, pid: int | None = None,
                     stderr: TextIO | None = None) -> SystemdContext:
    """Read systemd's variables and remove them (except JOURNAL_STREAM) from ``environ``,
    so that processes we start (shell lines) do not inherit our sockets' description,
    our notify socket or our watchdog.

    Raises :class:`ActivationError` when LISTEN_* is meant for us but is unusable.
    """
    environ = os.environ if environ is None else environ
    pid = os.getpid() if pid is None else pid
    journal = stderr_is_journal(environ.get("JOURNAL_STREAM"), stderr)
    notifier = Notifier.from_environment(environ)
    watchdog = take_watchdog_interval(environ, pid)
    sockets = take_listen_sockets(environ, pid)
    return SystemdContext(sockets=sockets, notifier=notifier, watchdog_interval=watchdog, journal=journal)
