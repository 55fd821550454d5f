"""A minimal JSON-over-HTTP/1.1 client on a plain socket (TCP or unix).

Why not http.client: importing it pulls in email.parser, ssl, calendar and locale — more
start-up time than the whole rest of the CLI. One request per connection
(``Connection: close``) keeps this small: status line, headers, then a body framed by
Content-Length, chunked encoding, or the end of the stream. ``https://`` URLs fall back to
http.client (imported only then).
"""

from __future__ import annotations

import json
import socket

from mirage import __version__

CONNECT_TIMEOUT_S = 5.0
MAX_HEADER_BYTES = 64 << 10
MAX_BODY_BYTES = 1 << 30
USER_AGENT = f"mirage-cli/{__version__}"


class Unreachable(Exception):
    """Nothing answered at the endpoint. ``nothing_listening`` is True when the connection was
    refused (or the socket file is missing): the one case where spawning a daemon is right."""

    def __init__(self, reason: str, *, nothing_listening: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.nothing_listening = nothing_listening


class _BadResponse(Exception):
    pass


class Reply:
    """A response: ``status``, ``headers`` (lower-case names), ``body`` (parsed JSON or None), ``raw``."""

    __slots__ = ("status", "headers", "body", "raw")

    def __init__(self, status: int, headers: dict[str, str], raw: bytes):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.body = None
        if raw.strip():
            try:
                self.body = json.loads(raw)
            except ValueError:
                self.body = None


def _where(endpoint) -> str:
    return endpoint.socket_path or f"{endpoint.host}:{endpoint.port}"


def _describe(exc: BaseException, endpoint) -> Unreachable:
    where = _where(endpoint)
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
    if isinstance(exc, _BadResponse):
        return Unreachable(f"{where} did not answer with valid HTTP ({exc})")
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return Unreachable(f"{where} closed the connection without an answer")
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return Unreachable(f"cannot connect to {where}: {reason}")


def _connect(endpoint) -> socket.socket:
    if endpoint.scheme == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(CONNECT_TIMEOUT_S)
            sock.connect(endpoint.socket_path)
        except BaseException:
            sock.close()
            raise
        return sock
    # bytes host: getaddrinfo skips the idna codec (an import we do not need for loopback/ASCII)
    host = endpoint.host.encode("ascii") if endpoint.host.isascii() else endpoint.host
    sock = socket.create_connection((host, endpoint.port), timeout=CONNECT_TIMEOUT_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _host_header(endpoint) -> str:
    if endpoint.scheme == "unix":
        return "localhost"
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    return f"{host}:{endpoint.port}"


class _Reader:
    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._buf = bytearray()
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._sock.recv(262144)
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    def line(self, limit: int = MAX_HEADER_BYTES) -> bytes:
        while True:
            index = self._buf.find(b"\n")
            if index >= 0:
                line = bytes(self._buf[: index + 1])
                del self._buf[: index + 1]
                return line
            if len(self._buf) > limit:
                raise _BadResponse("header line too long")
            if not self._fill():
                raise _BadResponse("connection closed mid-header")

    def exactly(self, count: int) -> bytes:
        if count > MAX_BODY_BYTES:
            raise _BadResponse("response body too large")
        while len(self._buf) < count:
            if not self._fill():
                raise _BadResponse("connection closed mid-body")
        data = bytes(self._buf[:count])
        del self._buf[:count]
        return data

    def rest(self) -> bytes:
        while self._fill():
            if len(self._buf) > MAX_BODY_BYTES:
                raise _BadResponse("response body too large")
        data = bytes(self._buf)
        self._buf.clear()
        return data


def _read_response(sock: socket.socket, method: str) -> tuple[int, dict[str, str], bytes]:
    reader = _Reader(sock)
    while True:
        status_line = reader.line().decode("latin-1").rstrip("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise _BadResponse(f"unexpected status line {status_line[:60]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        size = 0
        while True:
            line = reader.line()
            size += len(line)
            if size > MAX_HEADER_BYTES:
                raise _BadResponse("headers too large")
            if line in (b"\r\n", b"\n"):
                break
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise _BadResponse("malformed header line")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if 100 <= status < 200:
            continue                                 # interim response: the real one follows
        break
    if method == "HEAD" or status in (204, 304):
        return status, headers, b""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size_line = reader.line().split(b";", 1)[0].strip()
            try:
                chunk_size = int(size_line, 16)
            except ValueError:
                raise _BadResponse("bad chunk size") from None
            if chunk_size == 0:
                break
            body += reader.exactly(chunk_size)
            if len(body) > MAX_BODY_BYTES:
                raise _BadResponse("response body too large")
            reader.exactly(2)                        # CRLF after each chunk
        return status, headers, bytes(body)
    length = headers.get("content-length")
    if length is not None:
        try:
            return status, headers, reader.exactly(int(length))
        except ValueError:
            raise _BadResponse("bad Content-Length") from None
    return status, headers, reader.rest()


def request(endpoint, method: str, path: str, *, token: str | None = None, body=None,
            read_timeout: float | None = 30.0) -> Reply:
    """Send one request; return the reply whatever its status. Raises :class:`Unreachable`.

    ``read_timeout`` None waits as long as the daemon takes (shell lines, job waits: the
    daemon enforces its own limits)."""
    headers = {"Host": _host_header(endpoint), "User-Agent": USER_AGENT, "Accept": "application/json",
               "Connection": "close"}
    payload = b""
    if body is not None:
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None or method in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = str(len(payload))
    target = endpoint.base_path + path
    if endpoint.scheme == "https":
        return _request_tls(endpoint, method, target, headers, payload, read_timeout)
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    try:
        sock = _connect(endpoint)
    except OSError as exc:
        raise _describe(exc, endpoint) from None
    try:
        sock.settimeout(read_timeout)
        sock.sendall(head.encode("latin-1") + payload)
        status, reply_headers, raw = _read_response(sock, method)
    except (OSError, _BadResponse) as exc:
        raise _describe(exc, endpoint) from None
    finally:
        sock.close()
    return Reply(status, reply_headers, raw)


def _request_tls(endpoint, method, target, headers, payload, read_timeout) -> Reply:
    import http.client

    conn = http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=CONNECT_TIMEOUT_S)
    try:
        try:
            conn.connect()
            conn.sock.settimeout(read_timeout)
            conn.request(method, target, body=payload or None,
                         headers={k: v for k, v in headers.items() if k != "Host"})
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise _describe(exc, endpoint) from None
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, raw)
    finally:
        conn.close()
