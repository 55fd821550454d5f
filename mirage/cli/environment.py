"""The CLI's own environment variables, read in this one place.

``MIRAGE_DAEMON_URL`` and ``MIRAGE_TOKEN`` are client-side names the daemon tolerates;
``MIRAGE_HOME`` is shared with the daemon (the per-user root holding ``auth_token``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

URL_ENV = "MIRAGE_DAEMON_URL"
TOKEN_ENV = "MIRAGE_TOKEN"
HOME_ENV = "MIRAGE_HOME"


class ClientEnvironment:
    __slots__ = ("url", "token", "home", "home_source", "variables")

    def __init__(self, url: str | None, token: str | None, home: Path, home_source: str,
                 variables: Mapping[str, str]):
        self.url = url                  # MIRAGE_DAEMON_URL, None when unset or empty
        self.token = token              # MIRAGE_TOKEN, None when unset or empty
        self.home = home                # MIRAGE_HOME, else ~/.mirage
        self.home_source = home_source  # "MIRAGE_HOME" or "~/.mirage"
        self.variables = variables      # the whole environment (${VAR} expansion, child processes)

    @property
    def token_file(self) -> Path:
        return self.home / "auth_token"

    @property
    def pid_file(self) -> Path:
        return self.home / "daemon.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "daemon.log"


def read_environment(environ: Mapping[str, str] | None = None) -> ClientEnvironment:
    env = dict(os.environ if environ is None else environ)
    home_text = env.get(HOME_ENV) or ""
    if home_text:
        home, source = Path(home_text).expanduser(), HOME_ENV
    else:
        user_home = env.get("HOME") or str(Path.home())
        home, source = Path(user_home) / ".mirage", "~/.mirage"
    return ClientEnvironment(
        url=env.get(URL_ENV) or None,
        token=env.get(TOKEN_ENV) or None,
        home=home,
        home_source=source,
        variables=env,
    )
