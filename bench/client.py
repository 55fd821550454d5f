"""A small stdlib HTTP/1.1 client for setting scenarios up (creating workspaces, files)
and for timing single slow requests. The load itself comes from wrk (loadgen.py)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def detail(self) -> str:
        data = self.json()
        if isinstance(data, dict):
            return str(data.get("detail") or data.get("error") or data)[:200]
        return self.body[:200].decode("utf-8", "replace")


class Client:
    """Keep-alive connection to one server; reconnects once on a dropped connection."""

    def __init__(self, port: int, auth: str | None = None, timeout: float = 120.0):
        self.port = port
        self.auth = auth
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, body: Any = None) -> Reply:
        headers = {}
        if self.auth:
            headers["Authorization"] = self.auth
        payload = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn = self._connection()
            started = time.perf_counter()
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - started
            if response.getheader("connection", "").lower() == "close":
                self.close()
            return Reply(response.status, data, elapsed)
        raise AssertionError("unreachable")

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> Reply:
        return self.request("POST", path, body if body is not None else {})


def fan_out(port: int, auth: str | None, items: Iterable[Any],
            call: Callable[[Client, Any], Reply], *, workers: int = 16) -> list[Reply]:
    """Run ``call(client, item)`` for every item on ``workers`` keep-alive connections."""
    local = threading.local()
    clients: list[Client] = []
    lock = threading.Lock()

    def job(item: Any) -> Reply:
        client = getattr(local, "client", None)
        if client is None:
            client = Client(port, auth)
            local.client = client
            with lock:
                clients.append(client)
        return call(client, item)

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(job, items))
    finally:
        for client in clients:
            client.close()


def wait_for_health(port: int, *, deadline: float, alive: Callable[[], bool]) -> float | None:
    """Poll GET /v1/health until 200; the monotonic time it answered, or None."""
    client = Client(port, timeout=2.0)
    try:
        while time.monotonic() < deadline and alive():
            try:
                reply = client.get("/v1/health")
                if reply.status == 200:
                    return time.monotonic()
            except OSError:
                client.close()
            time.sleep(0.005)
        return None
    finally:
        client.close()
