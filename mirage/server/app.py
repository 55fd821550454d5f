"""create_app(settings): the Sanic app with its gate, error handlers and routes."""

from __future__ import annotations

import itertools
import time

from sanic import Sanic

from mirage.auth.build import build_verifier
from mirage.server import health, shell_api, workspaces_api
from mirage.server.activity import install_activity
from mirage.server.errors import install_error_handlers
from mirage.server.gate import make_gate
from mirage.settings import Settings

_app_numbers = itertools.count()


def create_app(settings: Settings, *, name: str | None = None) -> Sanic:
    """Build the app. Raises ConfigError if the auth mode cannot run."""
    app = Sanic(name or f"mirage{next(_app_numbers)}")
    app.config.REQUEST_MAX_HEADER_SIZE = 16384   # room for an 8 KiB bearer token plus the rest
    app.config.MOTD = False
    app.config.ACCESS_LOG = False          # we log access lines ourselves (one format)
    app.config.AUTO_RELOAD = False
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.TOUCHUP = False

    apply_settings(app, settings)
    app.ctx.started_monotonic = time.monotonic()
    app.ctx.workspace_count = lambda: 0    # replaced by the workspace engine
    install_activity(app)                  # request counter, access lines, ctx.stop_hooks, ctx.busy_checks

    gate = make_gate(app)

    @app.on_request(priority=1000)
    async def run_gate(request):
        gate(request)

    install_error_handlers(app, gate)
    app.blueprint(health.bp)
    workspaces_api.install(app)            # engine: restore before serving, persist after stop
    shell_api.install(app)                 # shell lines, sessions, background jobs
    return app


def apply_settings(app: Sanic, settings: Settings) -> None:
    """Swap in new settings and the verifier built from them (start and reload).
    Builds everything first so a failure leaves the running config untouched."""
    verifier = build_verifier(settings)
    allowed = frozenset(h.lower() for h in settings.server_allowed_hosts)
    app.ctx.settings, app.ctx.verifier, app.ctx.allowed_hosts = settings, verifier, allowed
    app.config.REQUEST_MAX_SIZE = settings.server_max_body_bytes   # read per new connection
