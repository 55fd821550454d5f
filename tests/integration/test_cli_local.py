"""Local mode: the CLI spawns a daemon from nothing, reuses it, never runs two, stops it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time

from test_cli_harness import (  # noqa: F401  (fixtures)
    MIRAGE,
    WORKSPACE_YAML,
    cli,
    daemon_pids_on_port,
    pid_alive,
    assert_route_exists,
    start_daemon,
)


def spawn_status(cli) -> dict:
    return cli.json("daemon", "status", "--spawn")


def test_first_command_spawns_a_local_daemon_with_a_private_token_file(cli):
    assert not cli.mirage_home.exists()
    status = spawn_status(cli)
    assert status["status"] == "ok"
    assert status["started_by_cli"] is True
    assert pid_alive(status["pid"])
    token_file = cli.mirage_home / "auth_token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.mirage_home.stat().st_mode) == 0o700
    assert status["token"].startswith("accepted")
    assert (cli.mirage_home / "daemon.log").stat().st_size > 0
    assert daemon_pids_on_port(cli.port) == [status["pid"]]


def test_second_command_reuses_the_spawned_daemon(cli):
    first = spawn_status(cli)
    second = spawn_status(cli)
    assert second["pid"] == first["pid"]
    assert second["uptime_s"] >= first["uptime_s"]
    assert daemon_pids_on_port(cli.port) == [first["pid"]]


def test_concurrent_clis_spawn_exactly_one_daemon(cli):
    procs = [subprocess.Popen([MIRAGE, "daemon", "status", "--spawn", "--json"], env=cli.env, cwd=cli.home,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(4)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    pids = {json.loads(out)["pid"] for out, _ in outputs}
    assert len(pids) == 1
    assert daemon_pids_on_port(cli.port) == list(pids)


def test_spawned_daemon_accepts_the_token_from_the_minted_file(cli):
    spawn_status(cli)
    token = (cli.mirage_home / "auth_token").read_text().strip()
    result = cli.run("token", "--show")
    assert result.returncode == 0
    assert result.stdout == token + "\n"


def test_without_spawn_an_absent_local_daemon_exits_1_and_starts_nothing(cli):
    result = cli.run("workspace", "list")
    assert result.returncode == 1
    assert "cannot reach the mirage daemon" in result.stderr
    assert "--spawn" in result.stderr
    assert not (cli.mirage_home / "daemon.pid").exists()
    assert daemon_pids_on_port(cli.port) == []


def test_a_daemon_that_cannot_start_is_reported_with_the_log_tail(cli, tmp_path):
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text("log:\n  level: shouting\n")
    result = cli.run("daemon", "status", "--spawn", extra_env={"MIRAGE_CONFIG": str(bad_config)})
    assert result.returncode == 1
    assert "exited with status 2" in result.stderr
    assert "log.level" in result.stderr          # the daemon's own one-line config error, from its log
    assert str(cli.mirage_home / "daemon.log") in result.stderr


def test_a_daemon_that_never_answers_is_stopped_after_10_s_with_progress_and_the_log(cli, tmp_path):
    # a config "file" that is a FIFO nobody writes: the spawned daemon blocks reading it, alive but silent
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    result = cli.run("daemon", "status", "--spawn", extra_env={"MIRAGE_CONFIG": str(fifo)})
    assert result.returncode == 1
    assert "mirage: starting a local daemon at " in result.stderr      # progress after a second
    assert "did not answer" in result.stderr and "(stopped it)" in result.stderr
    assert daemon_pids_on_port(cli.port) == []
    assert cli.run("token").returncode == 0          # the token was minted before the start


def test_an_already_running_daemon_is_used_and_no_second_one_is_spawned(cli, tmp_path):
    # stands in for a system daemon (systemd's mirage.socket): not started by the CLI
    daemon = start_daemon(cli.home, cli.port, {}, tmp_path / "own.log")
    try:
        status = spawn_status(cli)
        assert status["started_by_cli"] is False
        assert status["pid"] is None
        assert status["token"].startswith("accepted")   # the daemon minted ~/.mirage/auth_token; the CLI reads it
        assert daemon_pids_on_port(cli.port) == [daemon.proc.pid]
        stop = cli.run("daemon", "stop")
        assert stop.returncode == 2
        assert "systemctl" in stop.stderr
        assert daemon.proc.poll() is None
    finally:
        daemon.stop()


def test_daemon_stop_ends_the_spawned_daemon_gracefully(cli):
    pid = spawn_status(cli)["pid"]
    result = cli.run("daemon", "stop", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pid"] == pid
    assert not pid_alive(pid)
    assert cli.run("daemon", "status").returncode == 1
    again = cli.run("daemon", "stop")
    assert again.returncode == 0
    assert "no daemon is running" in again.stdout or '"running": false' in again.stdout


def test_a_new_daemon_is_spawned_after_the_previous_one_died(cli):
    first = spawn_status(cli)["pid"]
    os.kill(first, 9)
    deadline = time.monotonic() + 10
    while pid_alive(first) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = spawn_status(cli)["pid"]
    assert second != first
    assert pid_alive(second)


def test_token_file_with_loose_permissions_is_refused_with_exit_3(cli):
    spawn_status(cli)
    token_file = cli.mirage_home / "auth_token"
    os.chmod(token_file, 0o644)
    result = cli.run("workspace", "list")
    assert result.returncode == 3
    assert "chmod 600" in result.stderr
    assert token_file.read_text().strip() not in result.stderr
    token = cli.run("token")
    assert token.returncode == 3
    assert json.loads(token.stdout)["status"] == "refused"


def test_token_command_never_prints_the_token_without_show(cli):
    spawn_status(cli)
    secret = (cli.mirage_home / "auth_token").read_text().strip()
    result = cli.run("token")
    assert result.returncode == 0
    record = json.loads(result.stdout)
    assert record["status"] == "valid"
    assert record["path"] == str(cli.mirage_home / "auth_token")
    assert secret not in result.stdout + result.stderr


def test_token_command_reports_a_missing_file_with_exit_3(cli):
    result = cli.run("token")
    assert result.returncode == 3
    assert json.loads(result.stdout)["status"] == "missing"


def test_wrong_token_is_refused_with_exit_3_naming_where_the_cli_looked(cli):
    spawn_status(cli)
    result = cli.run("workspace", "list", extra_env={"MIRAGE_TOKEN": "not-the-right-token"})
    assert result.returncode == 3
    assert "MIRAGE_TOKEN" in result.stderr
    assert "--token: not given" in result.stderr
    assert "daemon auth mode: local" in result.stderr      # known: this CLI spawned it
    assert "not-the-right-token" not in result.stderr


def test_seed_flow_word_for_word(cli):
    """`mirage workspace create workspace.yaml --id demo`, `cat ~/.mirage/auth_token`, three curl probes."""
    (cli.home / "workspace.yaml").write_text(WORKSPACE_YAML)
    shell_env = dict(cli.env)

    def sh(line: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", line], env=shell_env, cwd=cli.home, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=60)

    shell_env["PATH"] = f"{os.path.dirname(MIRAGE)}:{shell_env.get('PATH', '')}"
    created = sh("mirage workspace create workspace.yaml --id demo")
    assert_route_exists(created, "POST /v1/workspaces")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["id"] == "demo"
    token = sh("cat ~/.mirage/auth_token")
    assert token.returncode == 0
    shell_env["TOKEN"] = token.stdout.strip()
    shell_env["URL"] = cli.url
    with_token = sh('curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $TOKEN" $URL/v1/workspaces')
    without = sh('curl -s -o /dev/null -w "%{http_code}" $URL/v1/workspaces')
    open_health = sh('curl -s -o /dev/null -w "%{http_code}" $URL/v1/health')
    assert (with_token.stdout, without.stdout, open_health.stdout) == ("200", "401", "200")


# ------------------------------------------------------------------ a socket-activated (systemd) daemon

def socket_activated(cli, listen: str) -> subprocess.Popen:
    """`systemd-socket-activate` holds the listening socket and starts `mirage daemon run` on the
    first connection, exactly as mirage.socket does (the CLI never sees a refused connection)."""
    env = {"HOME": str(cli.home), "PATH": cli.env.get("PATH", "/usr/bin:/bin"),
           "MIRAGE_HOME": str(cli.mirage_home)}
    argv = ["systemd-socket-activate", "-l", listen]
    for name, value in env.items():
        argv += ["-E", f"{name}={value}"]
    proc = subprocess.Popen(argv + [MIRAGE, "daemon", "run"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:          # until it listens (the path exists / the port binds)
        if listen.startswith("/"):
            if os.path.exists(listen):
                return proc
        elif not _port_free(int(listen.rsplit(":", 1)[1])):
            return proc
        time.sleep(0.02)
    end_activator(proc)
    raise AssertionError("systemd-socket-activate did not listen")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def end_activator(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def test_a_socket_activated_daemon_is_used_and_the_cli_spawns_nothing(cli):
    (cli.home / "workspace.yaml").write_text(WORKSPACE_YAML)
    activator = socket_activated(cli, f"127.0.0.1:{cli.port}")
    try:
        created = cli.run("workspace", "create", "workspace.yaml", "--id", "act")
        assert created.returncode == 0, created.stderr
        assert json.loads(created.stdout)["id"] == "act"
        assert not (cli.mirage_home / "daemon.pid").exists()      # never tried to spawn
        status = cli.json("daemon", "status")
        assert status["started_by_cli"] is False
        stop = cli.run("daemon", "stop")
        assert stop.returncode == 2 and "systemctl" in stop.stderr
    finally:
        end_activator(activator)


def test_unix_socket_url_against_a_socket_activated_daemon(cli, tmp_path):
    sock = tmp_path / "mirage.sock"
    activator = socket_activated(cli, str(sock))
    try:
        url = f"unix://{sock}"
        listed = cli.run("workspace", "list", "--url", url)
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == []
        assert cli.json("daemon", "status", "--url", url)["status"] == "ok"
    finally:
        end_activator(activator)


def test_a_second_port_for_the_same_home_is_refused_rather_than_a_second_daemon(cli):
    from test_cli_harness import free_port

    first = spawn_status(cli)
    other_url = f"http://127.0.0.1:{free_port()}"
    result = cli.run("daemon", "status", "--spawn", "--url", other_url)
    assert result.returncode == 1
    assert f"already runs on port {cli.port} (pid {first['pid']})" in result.stderr
    assert daemon_pids_on_port(int(other_url.rsplit(":", 1)[1])) == []
