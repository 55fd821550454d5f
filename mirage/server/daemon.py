"""The daemon process: ``app`` for ``sanic mirage.server.daemon:app``, and run()."""

from __future__ import annotations

import logging
import sys

from mirage.server.app import create_app
from mirage.settings import ConfigError, Settings, load_settings

log = logging.getLogger("mirage.daemon")


def run(settings: Settings) -> int:
    app = create_app(settings, name="mirage")
    app.run(host=settings.server_host, port=settings.server_port, single_process=True,
            access_log=False, motd=False)
    return 0


def _app_from_environment():
    try:
        return create_app(load_settings(), name="mirage")
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


def __getattr__(name: str):
    # built lazily so that importing the module (tests, the CLI) never reads /etc
    if name == "app":
        value = _app_from_environment()
        globals()["app"] = value
        return value
    raise AttributeError(name)
