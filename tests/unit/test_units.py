"""The shipped systemd units: what issue 3 asks of them, verified by systemd's own tools."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mirage.settings import KEYS_BY_NAME

UNITS = Path(__file__).resolve().parents[2] / "systemd"
SERVICE, SOCKET = UNITS / "mirage.service", UNITS / "mirage.socket"
MAX_EXPOSURE = 1.5

needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze is not installed (apt-get install systemd); CI installs it")


def _settings(path: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    section = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        name, _, value = line.partition("=")
        values.setdefault(f"{section}.{name}", []).append(value)
    return values


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s|min)?", value.strip())
    assert match, value
    return int(match.group(1)) * (60 if match.group(2) == "min" else 1)


def test_socket_listens_on_ipv4_and_ipv6_loopback_with_the_http_name():
    socket_unit = _settings(SOCKET)
    assert socket_unit["Socket.ListenStream"] == ["127.0.0.1:8765", "[::1]:8765"]
    assert socket_unit["Socket.FileDescriptorName"] == ["http"]
    assert socket_unit.get("Socket.Accept", ["no"]) == ["no"]


def test_service_is_a_notify_service_with_watchdog_reload_and_restart():
    service = _settings(SERVICE)
    expected = {
        "Type": "notify", "NotifyAccess": "main", "WatchdogSec": "30", "Restart": "on-failure",
        "User": "mirage", "StateDirectory": "mirage", "ConfigurationDirectory": "mirage",
        "ExecStart": "/usr/bin/mirage daemon run", "ExecReload": "/bin/kill -HUP $MAINPID",
    }
    for name, value in expected.items():
        assert service[f"Service.{name}"] == [value], name
    assert "Unit.Requires" in service and service["Unit.Requires"] == ["mirage.socket"]
    assert service["Service.RestartPreventExitStatus"] == ["2"]     # config errors do not restart-loop


def test_stop_timeout_outlasts_the_default_drain_bound():
    service = _settings(SERVICE)
    drain = KEYS_BY_NAME["server.drain_seconds"].default
    assert _seconds(service["Service.TimeoutStopSec"][0]) > drain


def test_service_environment_names_only_known_settings():
    service = _settings(SERVICE)
    from mirage.settings import KEYS_BY_ENV
    for line in service.get("Service.Environment", []):
        for assignment in line.split():
            name = assignment.split("=", 1)[0]
            assert name in KEYS_BY_ENV, f"{name} would make the daemon refuse to start"


@needs_analyze
def test_systemd_analyze_verify_is_clean(tmp_path):
    # verify checks that ExecStart= exists; point it at this checkout's mirage, the rest as shipped
    mirage = Path(sys.executable).parent / "mirage"
    assert mirage.exists()
    for unit in (SERVICE, SOCKET):
        text = unit.read_text().replace("ExecStart=/usr/bin/mirage ", f"ExecStart={mirage} ")
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "mirage.socket"),
                             str(tmp_path / "mirage.service")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr.strip() == "", \
        result.stdout + result.stderr


@needs_analyze
def test_systemd_analyze_security_exposure_is_at_most_1_5():
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(SERVICE)],
                            capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    match = re.search(r"Overall exposure level for mirage\.service: (\d+\.\d+)", output)
    assert match, output
    exposure = float(match.group(1))
    assert exposure <= MAX_EXPOSURE, output


@needs_analyze
def test_sysusers_and_tmpfiles_snippets_apply_in_a_scratch_root(tmp_path):
    if shutil.which("systemd-sysusers") is None or shutil.which("systemd-tmpfiles") is None:
        pytest.skip("systemd-sysusers / systemd-tmpfiles are not installed")
    if os.geteuid() != 0:
        pytest.skip("systemd-tmpfiles --root needs root to chown to the mirage user")
    (tmp_path / "etc").mkdir()
    subprocess.run(["systemd-sysusers", f"--root={tmp_path}", str(UNITS / "sysusers.d" / "mirage.conf")],
                   check=True, capture_output=True, timeout=60)
    passwd = (tmp_path / "etc" / "passwd").read_text()
    assert re.search(r"^mirage:x:\d+:\d+:[^:]*:/var/lib/mirage:/usr/sbin/nologin$", passwd, re.M)
    subprocess.run(["systemd-tmpfiles", f"--root={tmp_path}", "--create", str(UNITS / "tmpfiles.d" / "mirage.conf")],
                   check=True, capture_output=True, timeout=60)
    for folder, mode in (("var/lib/mirage", 0o750), ("var/lib/mirage/state", 0o700)):
        assert (tmp_path / folder).stat().st_mode & 0o777 == mode, folder
    assert (tmp_path / "etc" / "mirage").is_dir()
