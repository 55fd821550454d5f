"""The .deb installed and run under a booted systemd (Debian 12 in systemd-nspawn).

One container for the whole module; the tests run in file order, because they follow an
installation's life: install, activation, status, watchdog, journal, reload, restart,
stop, hardening, upgrade, remove, purge. Each test still states its own preconditions.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path

import pytest
import yaml

from nspawn import BootedContainer

CONFIG = "/etc/mirage/mirage.yaml"
STATE = "/var/lib/mirage"
RAM_WORKSPACE = {"mounts": {"/": {"vfs": "ram", "mode": "write"}}}
LOCK = Path(__file__).resolve().parents[2] / "packaging" / "requirements.lock"


# ---------------------------------------------------------------- helpers

def apt_install(c: BootedContainer, deb: Path) -> float:
    """Copy the .deb into the container and `apt-get install ./it`; returns seconds."""
    inbox = c.root / "var" / "tmp" / "pkgs"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(deb, inbox / deb.name)
    started = time.monotonic()
    c.run(["apt-get", "install", "-y", "--no-install-recommends", f"/var/tmp/pkgs/{deb.name}"],
          timeout=300)
    return time.monotonic() - started


def current_token(c: BootedContainer) -> str:
    """The token the daemon accepts now: auth.token in token mode, else the local file."""
    config = yaml.safe_load(c.read_file(CONFIG)) or {}
    auth = config.get("auth") or {}
    if auth.get("mode") == "token":
        return auth["token"]
    return c.read_file(f"{STATE}/auth_token").strip()


def main_pid(c: BootedContainer) -> int:
    return int(c.show("mirage.service", "MainPID")["MainPID"])


def ensure_running(c: BootedContainer) -> int:
    """A request through the socket; returns the daemon's MainPID."""
    assert c.http("GET", "/v1/health").status == 200
    c.wait_until(lambda: c.is_active("mirage.service") == "active", "mirage.service active")
    return main_pid(c)


def write_token_config(c: BootedContainer, token: str, marker: str = "") -> None:
    c.write_file(CONFIG, f"## edited by the operator {marker}\nauth:\n  mode: token\n"
                         f"  token: {token}\n")


def journal(c: BootedContainer, *args: str) -> str:
    c.run(["journalctl", "--sync"], check=False)
    return c.run(["journalctl", "--no-pager", "-o", "cat", *args]).stdout


USED_TOKENS: list[str] = []


def new_token() -> str:
    token = "tok_" + secrets.token_urlsafe(24)
    USED_TOKENS.append(token)
    return token


def stat(c: BootedContainer, path: str) -> tuple[str, str, int]:
    owner, group, mode = c.run(["stat", "-c", "%U %G %a", path]).stdout.split()
    return owner, group, int(mode, 8)


def locked_versions() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.split()[0].partition("==")
            pins[name] = version
    return pins


@pytest.fixture(scope="module")
def installed(booted, packages, figures):
    seconds = apt_install(booted, packages["deb"])
    figures["apt-get install ./mirage_*.deb (in the container)"] = f"{seconds:.1f} s"
    return booted


# ---------------------------------------------------------------- install

def test_install_creates_the_user_and_folders_and_enables_the_socket(installed):
    c = installed
    status = c.run(["dpkg-query", "-W", "-f", "${Status} ${Version}", "mirage"]).stdout
    assert status == "install ok installed 0.1.0-1"

    name, _, uid, _, _, home, shell = c.run(["getent", "passwd", "mirage"]).stdout.strip().split(":")
    assert int(uid) < 1000 and home == STATE and shell.endswith("nologin")

    owner, group, mode = stat(c, STATE)
    assert (owner, group, mode) == ("mirage", "mirage", 0o750)       # issue 7: owned by mirage, 0750
    assert stat(c, CONFIG) == ("root", "mirage", 0o640)

    assert c.run(["systemctl", "is-enabled", "mirage.socket"]).stdout.strip() == "enabled"
    assert c.is_active("mirage.socket") == "active"
    for path in ("/usr/lib/systemd/system/mirage.service", "/usr/lib/sysusers.d/mirage.conf",
                 "/usr/lib/tmpfiles.d/mirage.conf", "/usr/share/man/man1/mirage.1.gz",
                 "/usr/share/doc/mirage/copyright", "/usr/share/doc/mirage/README.md"):
        c.run(["test", "-f", path])
    conffiles = c.read_file("/var/lib/dpkg/info/mirage.conffiles").split()
    assert conffiles == [CONFIG]


def test_the_private_venv_holds_the_locked_versions_not_the_distros(installed):
    c = installed
    assert c.run(["readlink", "-f", "/usr/bin/mirage"]).stdout.strip() == \
        "/usr/lib/mirage/venv/bin/mirage"
    assert "daemon" in c.run(["mirage", "--help"]).stdout
    probe = ("import json, jwt, cryptography, sanic, yaml; print(json.dumps({m.__name__: "
             "[getattr(m, '__version__', ''), m.__file__] for m in (jwt, cryptography, sanic, yaml)}))")
    ours = json.loads(c.run(["/usr/lib/mirage/venv/bin/python", "-c", probe]).stdout)
    pins = locked_versions()
    assert ours["jwt"][0] == pins["pyjwt"] and ours["cryptography"][0] == pins["cryptography"]
    assert all(path.startswith("/usr/lib/mirage/venv/") for _, path in ours.values())
    # the distro's own, older pyjwt is installed, and only the system python sees it
    distro = c.run(["python3", "-c", "import jwt; print(jwt.__version__, jwt.__file__)"]).stdout.split()
    assert distro[1].startswith("/usr/lib/python3/dist-packages/") and distro[0] != ours["jwt"][0]


# ---------------------------------------------------------------- activation and status

def test_first_request_on_the_socket_starts_the_service(installed):
    c = installed
    c.run(["systemctl", "start", "mirage.socket"])
    assert c.show("mirage.socket", "ActiveState", "SubState") == \
        {"ActiveState": "active", "SubState": "listening"}
    assert c.is_active("mirage.service") == "inactive"

    reply = c.http("GET", "/v1/health")
    assert reply.status == 200, reply.body
    c.wait_until(lambda: c.is_active("mirage.service") == "active", "mirage.service active")
    # the daemon serves the socket's fds: the socket unit shows its service running
    assert c.show("mirage.socket", "SubState")["SubState"] == "running"
    assert c.show("mirage.service", "NRestarts")["NRestarts"] == "0"


def test_status_shows_the_sd_notify_status_line(installed):
    c = installed
    ensure_running(c)
    text = c.wait_until(lambda: c.show("mirage.service", "StatusText")["StatusText"],
                        "a STATUS= from the daemon")
    status = c.run(["systemctl", "status", "mirage.service", "--no-pager"], check=False).stdout
    assert f'Status: "{text}"' in status


def test_watchdog_keeps_the_daemon_alive_past_watchdogsec(installed):
    c = installed
    assert c.show("mirage.service", "WatchdogUSec")["WatchdogUSec"] == "30s"   # as shipped
    # Prove the pings with a short runtime watchdog: without them systemd would kill the
    # daemon after 2 s (Restart=on-failure would then show a new MainPID and NRestarts=1).
    dropin = "/run/systemd/system/mirage.service.d"        # /run is the container's tmpfs
    c.run(["mkdir", "-p", dropin])
    c.write_file(f"{dropin}/50-test-watchdog.conf", "[Service]\nWatchdogSec=2\n")
    try:
        c.run(["systemctl", "daemon-reload"])
        c.run(["systemctl", "restart", "mirage.service"])
        assert c.show("mirage.service", "WatchdogUSec")["WatchdogUSec"] == "2s"
        pid, restarts = main_pid(c), c.show("mirage.service", "NRestarts")["NRestarts"]
        since = c.run(["date", "+%Y-%m-%d %H:%M:%S"]).stdout.strip()
        time.sleep(7)                       # three and a half watchdog periods
        assert c.is_active("mirage.service") == "active"
        assert (main_pid(c), c.show("mirage.service", "NRestarts")["NRestarts"]) == (pid, restarts)
        assert "watchdog timeout" not in journal(c, "-u", "mirage", "--since", since).lower()
    finally:
        c.run(["rm", "-rf", dropin])
        c.run(["systemctl", "daemon-reload"])
        c.run(["systemctl", "restart", "mirage.service"])


def test_a_bad_token_is_logged_as_a_warning_without_the_token(installed):
    c = installed
    ensure_running(c)
    good = current_token(c)
    bad = new_token()
    since = c.run(["date", "+%Y-%m-%d %H:%M:%S"]).stdout.strip()
    assert c.http("GET", "/v1/workspaces", token=bad).status == 401
    assert c.http("GET", "/v1/workspaces", token=good).status == 200

    def auth_warning():
        lines = journal(c, "-u", "mirage", "-p", "warning", "--since", since).splitlines()
        return [line for line in lines if re.search(r"auth|401|unauthori[sz]ed|denied|reject",
                                                      line, re.I)]

    assert c.wait_until(auth_warning, "an auth warning in the journal", timeout=15)
    everything = journal(c)                      # all units, all priorities
    assert bad not in everything and good not in everything


# ---------------------------------------------------------------- reload, restart, stop

def test_reload_rotates_the_token_without_a_restart(installed):
    c = installed
    first, second = new_token(), new_token()
    write_token_config(c, first)
    c.run(["systemctl", "restart", "mirage.service"])
    c.wait_until(lambda: c.http("GET", "/v1/workspaces", token=first).status == 200,
                 "the first token accepted")
    pid = main_pid(c)

    write_token_config(c, second)
    c.run(["systemctl", "reload", "mirage"])
    c.wait_until(lambda: c.http("GET", "/v1/workspaces", token=second).status == 200,
                 "the rotated token accepted")
    assert c.http("GET", "/v1/workspaces", token=first).status == 401
    assert main_pid(c) == pid
    assert c.is_active("mirage.service") == "active"


def test_a_workspace_and_its_files_survive_a_restart(installed):
    c = installed
    ensure_running(c)
    token = current_token(c)
    created = c.http("POST", "/v1/workspaces", token=token,
                     body={"id": "survivor", "config": RAM_WORKSPACE})
    assert created.status in (200, 201), created.body
    for call, body in (("mkdir", {"path": "/notes"}),
                       ("write", {"path": "/notes/hello.txt", "data": "hello from before\n"})):
        reply = c.http("POST", f"/v1/workspaces/survivor/vfs/{call}", token=token, body=body)
        assert reply.status == 200, reply.body
    pid = main_pid(c)

    c.run(["systemctl", "restart", "mirage"])
    assert ensure_running(c) != pid
    assert c.http("GET", "/v1/workspaces/survivor", token=token).status == 200
    read = c.http("POST", "/v1/workspaces/survivor/vfs/read", token=token,
                  body={"path": "/notes/hello.txt", "encoding": "utf-8"})
    assert read.status == 200 and read.json()["data"] == "hello from before\n"


def test_a_shell_line_runs_under_the_hardened_unit(installed):
    """The parser and the compiled wheels (tree-sitter, jq) work under the unit's sandbox
    (MemoryDenyWriteExecute, SystemCallFilter, ...), not just in a dev venv."""
    c = installed
    ensure_running(c)
    token = current_token(c)
    assert c.http("POST", "/v1/workspaces", token=token,
                  body={"id": "shell", "config": RAM_WORKSPACE}).status in (200, 201)
    reply = c.http("POST", "/v1/workspaces/shell/shell", token=token,
                   body={"command": "echo one two three | wc -w > /count; cat /count"})
    assert reply.status == 200, reply.body
    assert reply.json()["exit_code"] == 0 and reply.json()["stdout"].strip() == "3"


def test_stopping_the_service_leaves_the_socket_listening_and_a_request_restarts_it(installed):
    c = installed
    ensure_running(c)
    c.run(["systemctl", "stop", "mirage.service"])
    assert c.is_active("mirage.service") == "inactive"
    assert c.show("mirage.socket", "ActiveState", "SubState", "Result") == \
        {"ActiveState": "active", "SubState": "listening", "Result": "success"}
    assert "POLLHUP" not in journal(c, "-u", "mirage.socket")

    assert c.http("GET", "/v1/health").status == 200
    c.wait_until(lambda: c.is_active("mirage.service") == "active", "mirage.service restarted")


def test_systemd_analyze_security_rates_the_service_at_most_1_5(installed):
    c = installed
    out = c.run(["systemd-analyze", "security", "mirage.service", "--no-pager"]).stdout
    match = re.search(r"Overall exposure level for mirage\.service:\s*([0-9.]+)", out)
    assert match, out[-500:]
    assert float(match.group(1)) <= 1.5


# ---------------------------------------------------------------- upgrade, remove, purge

def test_upgrade_keeps_the_edited_config_and_the_state_and_restarts_the_daemon(
        installed, upgrade_packages):
    c = installed
    token, marker = new_token(), secrets.token_hex(8)
    write_token_config(c, token, marker)
    c.run(["systemctl", "reload", "mirage"])
    c.wait_until(lambda: c.http("GET", "/v1/workspaces", token=token).status == 200,
                 "the edited config in effect")
    assert c.http("POST", "/v1/workspaces", token=token,
                  body={"id": "upgraded", "config": RAM_WORKSPACE}).status in (200, 201)
    assert c.http("POST", "/v1/workspaces/upgraded/vfs/write", token=token,
                  body={"path": "/kept.txt", "data": marker}).status == 200
    pid = ensure_running(c)

    apt_install(c, upgrade_packages["deb"])

    assert c.run(["dpkg-query", "-W", "-f", "${Version}", "mirage"]).stdout == "0.1.0-2"
    assert marker in c.read_file(CONFIG)
    assert stat(c, CONFIG) == ("root", "mirage", 0o640)
    assert c.run(["systemctl", "is-enabled", "mirage.socket"]).stdout.strip() == "enabled"
    new_pid = ensure_running(c)
    assert new_pid != pid                         # restarted on the new code
    read = c.http("POST", "/v1/workspaces/upgraded/vfs/read", token=token,
                  body={"path": "/kept.txt", "encoding": "utf-8"})
    assert read.status == 200 and read.json()["data"] == marker
    assert c.http("GET", "/v1/workspaces/survivor", token=token).status == 200


def test_no_token_of_this_run_ever_reached_the_journal(installed):
    c = installed
    assert len(USED_TOKENS) >= 4            # the bad one, two rotated ones, the upgrade's
    USED_TOKENS.append(c.read_file(f"{STATE}/auth_token").strip())     # local mode's
    everything = journal(c) + journal(c, "-o", "verbose")
    assert [t for t in USED_TOKENS if t in everything] == []


def test_remove_stops_everything_but_keeps_config_and_state(installed):
    c = installed
    ensure_running(c)
    c.run(["apt-get", "remove", "-y", "mirage"], timeout=300)
    assert c.is_active("mirage.service") != "active"
    assert c.is_active("mirage.socket") != "active"
    # debhelper's convention: masked until reinstalled (which restores the admin's choice)
    assert c.run(["systemctl", "is-enabled", "mirage.socket"], check=False).stdout.strip() == "masked"
    assert c.http("GET", "/v1/health", timeout=5).status == 0          # nothing listens
    assert c.run(["test", "-e", "/usr/lib/mirage"], check=False).returncode != 0
    assert c.run(["test", "-e", "/usr/lib/systemd/system/mirage.socket"], check=False).returncode != 0
    c.run(["test", "-f", CONFIG])
    c.run(["test", "-d", f"{STATE}/state"])


def test_purge_removes_units_user_data_and_config(installed):
    c = installed
    c.run(["apt-get", "purge", "-y", "mirage"], timeout=300)
    for path in ("/etc/mirage", STATE, "/usr/lib/mirage", "/usr/bin/mirage",
                 "/usr/lib/systemd/system/mirage.service", "/usr/lib/systemd/system/mirage.socket",
                 "/etc/systemd/system/mirage.socket",
                 "/etc/systemd/system/sockets.target.wants/mirage.socket"):
        assert c.run(["test", "-e", path], check=False).returncode != 0, f"{path} is still there"
    assert c.run(["dpkg-query", "-W", "mirage"], check=False).returncode != 0
    assert c.run(["systemctl", "cat", "mirage.socket"], check=False).returncode != 0
