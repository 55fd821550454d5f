"""GET/HEAD /v1/health: open, cheap, no secrets."""

from __future__ import annotations

import time

from sanic import Blueprint, json
from sanic.request import Request

from mirage import __version__

bp = Blueprint("health")


@bp.route("/v1/health", methods=["GET", "HEAD"])
async def health(request: Request):
    ctx = request.app.ctx
    return json({
        "status": "ok",
        "version": __version__,
        "uptime_s": round(time.monotonic() - ctx.started_monotonic, 3),
        "workspaces": ctx.workspace_count(),
    })
