"""A minimal JSON-over-HTTP client (stdlib http.client), over TCP or a unix socket."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass, field
from typing import Any

from mirage import __version__
from mirage.cli.endpoint import Endpoint

CONNECT_TIMEOUT_S = 5.0
USER_AGENT = f"mirage-cli/{__version__}"


class Unreachable(Exception):
    """Nothing answered at the endpoint. ``nothing_listening`` is True when the connection was
    refused (or the socket file is missing): the one case where spawning a daemon is right."""

    def __init__(self, reason: str, *, nothing_listening: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.nothing_listening = nothing_listening


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)   # lower-case names
    body: Any = None                                         # parsed JSON, or None
    raw: bytes = b""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _connection(endpoint: Endpoint) -> http.client.HTTPConnection:
    if endpoint.scheme == "unix":
        return _UnixConnection(endpoint.socket_path, CONNECT_TIMEOUT_S)
    if endpoint.scheme == "https":
        return http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=CONNECT_TIMEOUT_S)
    return http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=CONNECT_TIMEOUT_S)


def _describe(exc: BaseException, endpoint: Endpoint) -> Unreachable:
    where = endpoint.socket_path or f"{endpoint.host}:{endpoint.port}"
    if isinstance(exc, ConnectionRefusedError):
        return Unreachable(f"connection refused at {where}", nothing_listening=True)
    if isinstance(exc, FileNotFoundError) and endpoint.scheme == "unix":
        return Unreachable(f"no socket at {where}", nothing_listening=True)
    if isinstance(exc, PermissionError):
        return Unreachable(f"permission denied connecting to {where}")
    if isinstance(exc, socket.gaierror):
        return Unreachable(f"cannot resolve host {endpoint.host!r}")
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return Unreachable(f"no answer from {where} (timed out)")
    if isinstance(exc, http.client.HTTPException):
        return Unreachable(f"{where} closed the connection without a valid HTTP answer")
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return Unreachable(f"cannot connect to {where}: {reason}")


def request(endpoint: Endpoint, method: str, path: str, *, token: str | None = None,
            body: Any = None, read_timeout: float | None = 30.0) -> Reply:
    """Send one request; return the reply whatever its status. Raises :class:`Unreachable`.

    ``read_timeout`` None waits as long as the daemon takes (shell lines, job waits: the
    daemon enforces its own limits)."""
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    payload = None
    if body is not None:
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    conn = _connection(endpoint)
    try:
        try:
            conn.connect()
            conn.sock.settimeout(read_timeout)
            conn.request(method, endpoint.base_path + path, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise _describe(exc, endpoint) from None
        reply_headers = {name.lower(): value for name, value in response.getheaders()}
        parsed = None
        if raw.strip():
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        return Reply(response.status, reply_headers, parsed, raw)
    finally:
        conn.close()
