"""Socket activation: the listening sockets systemd passed us (sd_listen_fds(3)).

The sockets belong to the socket unit: we accept on them and, when done, only
``close()`` our descriptor. ``shutdown()`` would act on the shared socket and put
``mirage.socket`` into a failed state (systemd.socket(5)).
"""

from __future__ import annotations

import fcntl
import socket
from collections.abc import MutableMapping
from dataclasses import dataclass

SD_LISTEN_FDS_START = 3
_LISTEN_VARS = ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")


class ActivationError(Exception):
    """LISTEN_* was meant for us but cannot be used; the message names the problem."""


@dataclass
class InheritedSocket:
    fd: int
    name: str
    sock: socket.socket

    @property
    def address(self) -> str:
        """127.0.0.1:8765, [::1]:8765 or the unix socket path (@name when abstract)."""
        try:
            local = self.sock.getsockname()
        except OSError:
            return "?"
        if isinstance(local, tuple):
            host, port = local[0], local[1]
            return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if isinstance(local, bytes):
            local = local.decode("utf-8", "replace")
        if local.startswith("\0"):
            return "@" + local[1:]
        return local or "(unnamed unix socket)"


def take_listen_sockets(environ: MutableMapping[str, str], pid: int) -> list[InheritedSocket]:
    """Sockets passed by systemd when LISTEN_PID is ``pid``; [] when not socket-activated.

    Removes LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES from ``environ`` either way (like
    ``sd_listen_fds(1)``). Each descriptor must be a listening stream socket (TCP or
    unix); anything else raises :class:`ActivationError`.
    """
    listen_pid, listen_fds, listen_names = (environ.pop(name, None) for name in _LISTEN_VARS)
    if listen_pid is None or listen_fds is None:
        return []
    if not listen_pid.strip().isdigit() or int(listen_pid) != pid:
        return []   # meant for another process (e.g. our parent)
    if not listen_fds.strip().isdigit():
        raise ActivationError(f"LISTEN_FDS={listen_fds!r} is not a number")
    count = int(listen_fds)
    if count == 0:
        return []
    names = listen_names.split(":") if listen_names else []
    if len(names) != count:
        names = ["unknown"] * count
    sockets = []
    for offset, name in enumerate(names):
        fd = SD_LISTEN_FDS_START + offset
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFD)
            fcntl.fcntl(fd, fcntl.F_SETFD, flags | fcntl.FD_CLOEXEC)
            sock = socket.socket(fileno=fd)
        except OSError as exc:
            raise ActivationError(f"fd {fd} ({name}): not a usable socket: {exc.strerror or exc}") from None
        if sock.type != socket.SOCK_STREAM:
            sock.detach()
            raise ActivationError(f"fd {fd} ({name}): not a stream socket (ListenStream= is needed)")
        if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            sock.detach()
            raise ActivationError(f"fd {fd} ({name}): not a listening socket (Accept=no is needed)")
        sock.setblocking(False)
        sockets.append(InheritedSocket(fd=fd, name=name, sock=sock))
    return sockets
