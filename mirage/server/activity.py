"""What the process is doing: requests served, last activity, access lines, stop hooks.

Installed by ``create_app``; read by the daemon (STATUS line, idle exit).

Hooks other parts use (on ``app.ctx``):

* ``app.ctx.stop_hooks`` — async callables ``hook() -> None`` run once, in order,
  after in-flight requests are drained and the listening sockets are closed, just
  before the process exits (Sanic's ``after_server_stop``). The workspace engine
  appends its "persist everything and close the store" here. A failing hook is
  logged and the next one still runs.
* ``app.ctx.busy_checks`` — callables ``check() -> bool``; while any returns True the
  daemon is not idle (e.g. a background job still running), so idle exit waits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from sanic import Sanic

from mirage import logs

access_log = logging.getLogger("mirage.access")
log = logging.getLogger("mirage.daemon")

MAX_LOGGED_PATH = 200


class Activity:
    """Counters the daemon reads; updated from the request lifecycle signals."""

    def __init__(self) -> None:
        self.requests_served = 0
        self.last_active = time.monotonic()

    def touch(self) -> None:
        self.last_active = time.monotonic()

    def idle_for(self) -> float:
        return time.monotonic() - self.last_active


def install_activity(app: Sanic) -> None:
    app.ctx.activity = Activity()
    app.ctx.stop_hooks: list[Callable[[], Awaitable[None]]] = []
    app.ctx.busy_checks: list[Callable[[], bool]] = []

    @app.signal("http.lifecycle.request")
    async def request_started(request) -> None:
        request.ctx.started = time.perf_counter()
        app.ctx.activity.touch()

    @app.signal("http.lifecycle.response")
    async def response_sent(request, response) -> None:
        activity = app.ctx.activity
        activity.requests_served += 1
        activity.touch()
        if app.ctx.settings.log_access and access_log.isEnabledFor(logging.INFO):
            started = getattr(request.ctx, "started", None)
            principal = getattr(request.ctx, "principal", None)
            body = getattr(response, "body", None)
            logs.event(
                access_log, logging.INFO, "request",
                method=request.method,
                path=request.path[:MAX_LOGGED_PATH],          # never the query string
                status=response.status,
                bytes=len(body) if body is not None else None,
                ms=round((time.perf_counter() - started) * 1000, 1) if started else None,
                peer=request.ip or "unix",
                account=principal.account if principal is not None else None,
            )

    @app.after_server_stop
    async def run_stop_hooks(app: Sanic) -> None:
        for hook in app.ctx.stop_hooks:
            try:
                await hook()
            except Exception:
                log.exception("stop hook failed hook=%s", getattr(hook, "__qualname__", repr(hook)))
