"""The framework ceiling: a plain Sanic app with one JSON route and Mirage's Sanic settings.

Every throughput/latency ratio in the bench is measured against this app, started the
same way as the daemon (single process, access log off, motd off), on the same core.

    python bench/baseline_app.py --port P          # binds 127.0.0.1:P
    systemd-socket-activate -l 127.0.0.1:P python bench/baseline_app.py
                                                    # serves the inherited fd 3

It answers every GET path with the same small JSON document (roughly the size of
Mirage's /v1/health body), so the bench can point it at any path it measures.
"""

from __future__ import annotations

import argparse
import os
import socket
import time

from sanic import Sanic, json
from sanic.request import Request

STARTED = time.monotonic()
STATIC_PATHS = ("/", "/v1/health", "/v1/workspaces")


def build_app() -> Sanic:
    app = Sanic("bench_baseline")
    app.config.MOTD = False
    app.config.ACCESS_LOG = False
    app.config.AUTO_RELOAD = False
    app.config.TOUCHUP = False
    app.config.FALLBACK_ERROR_FORMAT = "json"

    async def answer(request: Request, path: str = ""):
        return json({
            "status": "ok",
            "version": "0.0.0",
            "uptime_s": round(time.monotonic() - STARTED, 3),
            "workspaces": 0,
        })

    # static routes for the paths the bench measures (what Mirage's router sees too),
    # and a catch-all for anything else
    for index, path in enumerate(STATIC_PATHS):
        app.add_route(answer, path, methods=["GET"], name=f"static{index}")
    app.add_route(answer, "/<path:path>", methods=["GET"], name="anything")

    return app


def inherited_socket() -> socket.socket | None:
    """fd 3 when systemd-socket-activate (or systemd) handed us a socket."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or int(os.environ.get("LISTEN_FDS", "0")) < 1:
        return None
    sock = socket.socket(fileno=3)
    sock.setblocking(False)
    return sock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    app = build_app()
    sock = inherited_socket()
    if sock is not None:
        app.run(sock=sock, single_process=True, access_log=False, motd=False)
    else:
        app.run(host="127.0.0.1", port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
