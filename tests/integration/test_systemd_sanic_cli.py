"""`sanic mirage.server.daemon:app --single-process` still works (the lazily built app)."""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import pytest

from systemd_helpers import GOOD_TOKEN, Process, free_port, harness, http, wait_until  # noqa: F401


def test_sanic_cli_serves_the_lazily_built_app_with_mirage_logging(harness, tmp_path):
    sanic = Path(sys.executable).parent / "sanic"
    if not sanic.exists():
        pytest.skip("the sanic command is not installed next to this python")
    port = free_port()
    env = {"PATH": os.environ["PATH"], **harness.env()}
    process = harness.track(Process([str(sanic), "mirage.server.daemon:app", "--single-process", "--no-motd",
                                     "--host", "127.0.0.1", "--port", str(port)], env, tmp_path / "sanic.log"))
    address = f"127.0.0.1:{port}"

    def answers():
        try:
            return http(address)[0] == 200
        except OSError:
            return False
    wait_until(answers, what=f"the sanic CLI to serve (log: {process.log()!r})")
    assert http(address, path="/v1/x", token=GOOD_TOKEN)[0] == 404
    assert http(address, path="/v1/x", token="nope")[0] == 401
    process.wait_log(r"INFO mirage\.access: request method=GET path=/v1/x status=401")
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0
    lines = [line for line in process.log_lines() if line.strip()]
    assert all(re.match(r"\d{4}-\d\d-\d\dT\S+Z [A-Z]+ \S+: ", line) for line in lines), lines
    assert GOOD_TOKEN not in process.log()
