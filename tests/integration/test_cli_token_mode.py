"""Token mode: every client command against a real daemon subprocess started with MIRAGE_AUTH_TOKEN."""

from __future__ import annotations

import json
import subprocess

import pytest

from test_cli_harness import (  # noqa: F401  (fixtures)
    MIRAGE,
    TOKEN,
    WORKSPACE_YAML,
    cli,
    daemon_pids_on_port,
    assert_route_exists,
    token_daemon,
)


@pytest.fixture
def authed(cli, token_daemon):
    cli.env["MIRAGE_TOKEN"] = TOKEN
    (cli.home / "workspace.yaml").write_text(WORKSPACE_YAML)
    return cli


@pytest.fixture
def workspace(authed):
    result = authed.run("workspace", "create", "workspace.yaml", "--id", "ws1")
    assert_route_exists(result, "POST /v1/workspaces")
    assert result.returncode == 0, result.stderr
    return "ws1"


def test_status_reports_the_token_accepted_and_a_daemon_not_started_by_the_cli(authed, token_daemon):
    status = authed.json("daemon", "status")
    assert status["status"] == "ok"
    assert status["started_by_cli"] is False
    assert status["token"] == "accepted (token from MIRAGE_TOKEN)"


def test_token_flag_wins_over_the_environment_before_or_after_the_subcommand(authed):
    refused = authed.run("workspace", "list", "--token", "wrong-token")
    assert refused.returncode == 3
    assert "sent the token from --token" in refused.stderr
    authed.env["MIRAGE_TOKEN"] = "wrong-token"
    assert authed.run("workspace", "list", "--token", TOKEN).returncode == 0
    assert authed.run("--token", TOKEN, "workspace", "list").returncode == 0


def test_missing_token_exits_3_and_lists_every_place_looked(cli, token_daemon):
    result = cli.run("workspace", "list")
    assert result.returncode == 3
    for place in ("--token: not given", "MIRAGE_TOKEN: not set", str(cli.mirage_home / "auth_token")):
        assert place in result.stderr
    assert "daemon auth mode: token" in result.stderr      # from the 401 body


def test_token_mode_daemon_is_never_joined_by_a_spawned_one(authed, token_daemon):
    assert authed.run("daemon", "status", "--spawn").returncode == 0
    assert daemon_pids_on_port(authed.port) == [token_daemon.proc.pid]
    assert not (authed.mirage_home / "daemon.pid").exists()


def test_workspace_create_list_get_delete(authed, workspace):
    listed = authed.json("workspace", "list")
    assert [w["id"] for w in listed] == [workspace]
    detail = authed.json("workspace", "get", workspace)
    assert detail["id"] == workspace
    assert [m["prefix"] for m in detail["mounts"]] == ["/"]
    deleted = authed.json("workspace", "delete", workspace)
    assert deleted["id"] == workspace
    assert authed.json("workspace", "list") == []


def test_workspace_create_again_with_the_same_config_is_idempotent(authed, workspace):
    again = authed.run("workspace", "create", "workspace.yaml", "--id", workspace)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["id"] == workspace


def test_unknown_workspace_exits_2_with_the_daemons_detail(authed, workspace):
    result = authed.run("workspace", "get", "no-such-ws")
    assert result.returncode == 2
    assert "no-such-ws" in result.stderr
    assert "HTTP 404" in result.stderr


def test_invalid_workspace_id_exits_2_with_the_daemons_detail(authed):
    result = authed.run("workspace", "create", "workspace.yaml", "--id", "bad id!")
    assert_route_exists(result, "POST /v1/workspaces")
    assert result.returncode == 2
    assert "HTTP 400" in result.stderr


def test_a_terminal_gets_a_table_and_a_pipe_gets_json(authed, workspace):
    piped = authed.run("workspace", "list")
    assert json.loads(piped.stdout)[0]["id"] == workspace
    # `script` runs the command on a pseudo-terminal, as a user at a shell prompt would
    on_tty = subprocess.run(["script", "-qec", f"{MIRAGE} workspace list", "/dev/null"], env=authed.env,
                            cwd=authed.home, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert on_tty.returncode == 0, on_tty.stdout
    lines = on_tty.stdout.replace("\r", "").splitlines()
    assert lines[0].split()[:3] == ["ID", "MODE", "MOUNT_COUNT"]
    assert lines[1].split()[0] == workspace


def test_shell_line_streams_and_exit_code(authed, workspace):
    result = authed.run("shell", "-w", workspace, "-c", "echo out; echo err >&2; false")
    assert_route_exists(result, "POST /v1/workspaces/{id}/shell")
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"
    assert result.returncode == 1
    assert authed.run("shell", "-w", workspace, "-c", "exit 7").returncode == 7


def test_shell_passes_piped_stdin_to_the_line(authed, workspace):
    result = authed.run("shell", "-w", workspace, "-c", "wc -l", input="a\nb\nc\n")
    assert_route_exists(result, "POST /v1/workspaces/{id}/shell")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"


def test_shell_writes_persist_between_lines(authed, workspace):
    write = authed.run("shell", "-w", workspace, "-c", "echo hello > /greeting")
    assert_route_exists(write, "POST /v1/workspaces/{id}/shell")
    assert write.returncode == 0, write.stderr
    assert authed.run("shell", "-w", workspace, "-c", "cat /greeting").stdout == "hello\n"


def test_sessions_create_list_delete_and_keep_their_cwd(authed, workspace):
    created = authed.run("session", "create", "-w", workspace, "--id", "s1")
    assert_route_exists(created, "POST /v1/workspaces/{id}/sessions")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["session_id"] == "s1"
    assert "s1" in [s["session_id"] for s in authed.json("session", "list", "-w", workspace)]
    authed.run("shell", "-w", workspace, "-c", "mkdir -p /d && cd /d", "--session", "s1")
    assert authed.run("shell", "-w", workspace, "-c", "pwd", "--session", "s1").stdout == "/d\n"
    assert authed.run("session", "delete", "-w", workspace, "s1").returncode == 0
    assert "s1" not in [s["session_id"] for s in authed.json("session", "list", "-w", workspace)]


def test_background_job_list_get_wait_cancel(authed, workspace):
    started = authed.run("shell", "-w", workspace, "-c", "echo done", "--bg")
    assert_route_exists(started, "POST /v1/workspaces/{id}/shell?background=true")
    assert started.returncode == 0, started.stderr
    job_id = json.loads(started.stdout)["job_id"]
    waited = authed.run("job", "wait", job_id, "--timeout", "30")
    assert_route_exists(waited, "POST /v1/jobs/{id}/wait")
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["job_id"] == job_id
    assert job_id in [j["job_id"] for j in authed.json("job", "list")]
    assert authed.json("job", "get", job_id)["job_id"] == job_id
    long_job = json.loads(authed.run("shell", "-w", workspace, "-c", "while true; do :; done", "--bg").stdout)
    cancelled = authed.run("job", "cancel", long_job["job_id"])
    assert cancelled.returncode == 0, cancelled.stderr
