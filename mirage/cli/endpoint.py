"""Where the daemon is: ``http://HOST:PORT`` (optionally with a path prefix) or ``unix:///PATH``."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from mirage.cli.errors import EXIT_REQUEST, CliError

DEFAULT_URL = "http://127.0.0.1:8765"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Endpoint:
    """A parsed daemon URL (a plain class: dataclasses cost start-up time)."""

    __slots__ = ("url", "scheme", "host", "port", "socket_path", "base_path")

    def __init__(self, url: str, scheme: str, host: str, port: int, socket_path: str, base_path: str):
        self.url = url                  # as given, for messages
        self.scheme = scheme            # http | https | unix
        self.host = host                # "" for unix
        self.port = port                # 0 for unix
        self.socket_path = socket_path  # "" unless unix
        self.base_path = base_path      # "" or "/prefix" (no trailing slash)

    @property
    def is_loopback(self) -> bool:
        """True for a plain-http URL on this machine: the only kind the CLI may spawn a daemon for."""
        if self.scheme != "http":
            return False
        if self.host.lower() == "localhost":
            return True
        import ipaddress

        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def bind_host(self) -> str:
        """The address a spawned daemon binds to serve this URL."""
        if self.host.lower() == "localhost":
            return "127.0.0.1"
        return self.host


def parse_endpoint(url: str, source: str) -> Endpoint:
    """Parse a daemon URL; ``source`` names where it came from (``--url``, ``MIRAGE_DAEMON_URL``)."""
    text = url.strip()

    def bad(problem: str) -> CliError:
        return CliError(f"{source}: {problem} (expected http://HOST:PORT or unix:///PATH/TO.sock)",
                        EXIT_REQUEST)

    if not text:
        raise bad("is empty")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise bad(f"{text!r} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if parts.query or parts.fragment:
        raise bad(f"{text!r} must not have a query or fragment")
    if parts.username or parts.password:
        raise bad("credentials in the URL are not accepted; use --token or MIRAGE_TOKEN")
    if scheme == "unix":
        if parts.netloc:
            raise bad(f"{text!r}: a unix socket URL has three slashes: unix:///run/mirage/mirage.sock")
        if not parts.path.startswith("/") or parts.path == "/":
            raise bad(f"{text!r}: give the absolute path of the socket")
        return Endpoint(text, "unix", "", 0, parts.path, "")
    if scheme not in _DEFAULT_PORTS:
        raise bad(f"unsupported scheme {parts.scheme or '(none)'!r} in {text!r}")
    if not parts.hostname:
        raise bad(f"{text!r} has no host")
    base = quote(parts.path.rstrip("/"), safe="/%")
    return Endpoint(text, scheme, parts.hostname, port or _DEFAULT_PORTS[scheme], "", base)
