"""Shell, session and job routes: shapes, bad input, per-session state, background jobs,
wait, cancel, account isolation, durability, limits and client disconnects."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest
from sanic_testing.reusable import ReusableClient

from api_client import Api, es256_keys, free_port

from mirage.server.app import create_app
from mirage.settings import load_settings


def make_settings(tmp_path, home, pem, **overrides):
    return load_settings(env={"HOME": str(home)}, overrides={
        "auth.mode": "jwt", "jwt.alg": "ES256", "jwt.pubkey": pem,
        "state_dir": str(tmp_path / "state"), **overrides})


@pytest.fixture
def keys():
    return es256_keys()


@pytest.fixture
def api(tmp_path, clean_env, keys):
    pem, tokens = keys
    app = create_app(make_settings(tmp_path, clean_env, pem, **{"shell.timeout_seconds": 5}))
    with ReusableClient(app, port=free_port(), client_kwargs={"timeout": 60}) as client:
        api = Api(client, tokens)
        assert api.call("post", "/v1/workspaces", body={"config": {}, "id": "w"})[0] == 201
        yield api


# ------------------------------------------------------------ shell

def test_shell_returns_the_io_shape(api):
    status, body = api.shell("w", "echo hi; echo oops >&2")
    assert status == 200
    assert body == {"kind": "io", "exit_code": 0, "stdout": "hi\n", "stderr": "oops\n"}


def test_non_zero_exit_is_still_200(api):
    status, body = api.shell("w", "nosuch")
    assert status == 200 and body["exit_code"] == 127
    assert body["stderr"] == "mirage: nosuch: command not found\n"


def test_syntax_error_is_exit_2_not_an_http_error(api):
    status, body = api.shell("w", "echo $(")
    assert status == 200 and body["exit_code"] == 2 and "syntax error" in body["stderr"]


def test_output_is_decoded_with_replacement(api):
    status, body = api.shell("w", "printf '\\377ok'")
    assert status == 200 and body["stdout"] == "\ufffdok"


def test_shell_writes_are_visible_to_the_vfs_api(api):
    api.shell("w", "mkdir -p /d && echo data > /d/f.txt")
    status, body = api.call("post", "/v1/workspaces/w/vfs/read", body={"path": "/d/f.txt"})
    assert status == 200 and "data" in json.dumps(body)


def test_stdin_text_and_base64_feed_the_line(api):
    assert api.shell("w", "wc -l", stdin="a\nb\nc\n")[1]["stdout"].strip() == "3"
    status, body = api.shell("w", "cat > /in.bin; wc -c < /in.bin", stdin_base64="/wABAg==")
    assert status == 200 and body["stdout"].strip() == "4"
    assert api.call("post", "/v1/workspaces/w/vfs/read", body={"path": "/in.bin"})[0] == 200
    assert api.shell("w", "cat")[1]["stdout"] == ""          # no stdin: empty, never the daemon's


def test_cwd_field_sets_the_starting_directory(api):
    api.shell("w", "mkdir /sub")
    assert api.shell("w", "pwd", cwd="/sub")[1]["stdout"] == "/sub\n"
    assert api.shell("w", "pwd")[1]["stdout"] == "/\n"


@pytest.mark.parametrize("body, field", [
    ({}, "command"),
    ({"command": 5}, "command"),
    ({"command": "ls", "colour": 1}, "colour"),
    ({"command": "ls", "cwd": "relative"}, "cwd"),
    ({"command": "ls", "cwd": 3}, "cwd"),
    ({"command": "ls", "session_id": "../x"}, "session_id"),
    ({"command": "a\u0000b"}, "command"),
    ({"command": "cat", "stdin": 5}, "stdin"),
    ({"command": "cat", "stdin_base64": "***"}, "stdin_base64"),
    ({"command": "cat", "stdin": "a", "stdin_base64": "YQ=="}, "stdin_base64"),
])
def test_bad_shell_bodies_are_400_naming_the_field(api, body, field):
    status, answer = api.call("post", "/v1/workspaces/w/shell", body=body)
    assert status == 400 and answer["error"] == "bad_request" and answer["field"] == field


def test_malformed_json_and_bad_background_flag_are_400(api):
    assert api.call("post", "/v1/workspaces/w/shell", raw=b"{nope")[0] == 400
    status, body = api.shell("w", "ls", query="?background=maybe")
    assert status == 400 and body["field"] == "background"


def test_unknown_workspace_and_unknown_session_are_404(api):
    assert api.shell("nope", "ls")[0] == 404
    status, body = api.shell("w", "ls", session_id="ghost")
    assert status == 404 and body["error"] == "not_found"


def test_other_accounts_workspace_is_404_for_the_shell(api):
    assert api.shell("w", "ls", who="bob")[0] == 404


def test_time_limit_comes_from_settings(api):
    status, body = api.shell("w", "while true; do :; done")
    assert status == 200 and body["exit_code"] == 124 and "time limit of 5 s" in body["stderr"]


def test_acknowledged_shell_writes_survive_a_crash(api, tmp_path, clean_env, keys):
    """Copy the state folder right after the response (what a SIGKILL would leave) and
    start a fresh app on the copy: the line's write is there."""
    assert api.shell("w", "echo durable > /kept.txt")[1]["exit_code"] == 0
    crashed = tmp_path / "crashed"
    shutil.copytree(tmp_path / "state", crashed / "state")
    pem, tokens = keys
    app = create_app(make_settings(crashed, clean_env, pem))
    with ReusableClient(app, port=free_port()) as client:
        status, body = Api(client, tokens).shell("w", "cat /kept.txt")
    assert status == 200 and body["stdout"] == "durable\n"


# ------------------------------------------------------------ sessions

def test_sessions_have_their_own_cwd_and_environment(api):
    status, body = api.call("post", "/v1/workspaces/w/sessions", body={"session_id": "s1"})
    assert status == 201 and body["session_id"] == "s1" and body["cwd"] == "/"
    api.shell("w", "mkdir /a /b")
    api.shell("w", "cd /a; export WHO=one", session_id="s1")
    api.shell("w", "cd /b; export WHO=default")
    assert api.shell("w", "pwd; echo $WHO", session_id="s1")[1]["stdout"] == "/a\none\n"
    assert api.shell("w", "pwd; echo $WHO")[1]["stdout"] == "/b\ndefault\n"


def test_session_id_also_accepted_as_a_query_parameter(api):
    api.call("post", "/v1/workspaces/w/sessions", body={"session_id": "q", "cwd": "/"})
    api.shell("w", "export Q=1", query="?session_id=q")
    assert api.shell("w", "echo $Q", session_id="q")[1]["stdout"] == "1\n"


def test_session_create_with_env_list_and_delete(api):
    status, body = api.call("post", "/v1/workspaces/w/sessions", body={"env": {"GREETING": "hi"}})
    sid = body["session_id"]
    assert status == 201 and sid.startswith("sess_")
    assert api.shell("w", "echo $GREETING", session_id=sid)[1]["stdout"] == "hi\n"
    status, listed = api.call("get", "/v1/workspaces/w/sessions")
    assert status == 200 and {s["session_id"] for s in listed} == {"default", sid}
    assert api.call("delete", f"/v1/workspaces/w/sessions/{sid}") == (200, {"session_id": sid})
    assert api.shell("w", "ls", session_id=sid)[0] == 404
    assert api.call("delete", f"/v1/workspaces/w/sessions/{sid}")[0] == 404


def test_session_conflicts_and_bad_bodies(api):
    assert api.call("post", "/v1/workspaces/w/sessions", body={"session_id": "dup"})[0] == 201
    assert api.call("post", "/v1/workspaces/w/sessions", body={"session_id": "dup"})[0] == 409
    for body, field in (({"session_id": "a b"}, "session_id"), ({"env": {"1x": "v"}}, "env"),
                        ({"env": []}, "env"), ({"cwd": "x"}, "cwd"), ({"other": 1}, "other")):
        status, answer = api.call("post", "/v1/workspaces/w/sessions", body=body)
        assert status == 400 and answer["field"] == field


def test_deleting_the_default_session_resets_it(api):
    api.shell("w", "mkdir /x; cd /x")
    assert api.call("delete", "/v1/workspaces/w/sessions/default")[0] == 200
    assert api.shell("w", "pwd")[1]["stdout"] == "/\n"


def test_other_account_cannot_touch_sessions(api):
    assert api.call("get", "/v1/workspaces/w/sessions", who="bob")[0] == 404
    assert api.call("post", "/v1/workspaces/w/sessions", who="bob", body={})[0] == 404
    assert api.call("delete", "/v1/workspaces/w/sessions/default", who="bob")[0] == 404


# ------------------------------------------------------------ jobs

def test_background_job_runs_and_wait_returns_its_result(api):
    status, body = api.shell("w", "echo bg > /bg.txt; cat /bg.txt", query="?background=true")
    assert status == 202 and body["workspace_id"] == "w" and body["job_id"].startswith("job_")
    assert isinstance(body["submitted_at"], float)
    job_id = body["job_id"]
    status, job = api.call("post", f"/v1/jobs/{job_id}/wait", body={"timeout_s": 10})
    assert status == 200 and job["status"] == "done"
    assert job["result"] == {"kind": "io", "exit_code": 0, "stdout": "bg\n", "stderr": ""}
    status, again = api.call("get", f"/v1/jobs/{job_id}")
    assert status == 200 and again["result"]["stdout"] == "bg\n" and again["command"].startswith("echo bg")
    status, listed = api.call("get", "/v1/jobs")
    assert status == 200 and [j["job_id"] for j in listed] == [job_id]
    assert api.call("get", "/v1/jobs?workspace_id=other")[1] == []


def test_wait_with_a_short_timeout_returns_the_running_job(api):
    job_id = api.shell("w", "sleep 3", query="?background=true")[1]["job_id"]
    status, job = api.call("post", f"/v1/jobs/{job_id}/wait", body={"timeout_s": 0.05})
    assert status == 200 and job["status"] == "running" and job["result"] is None
    api.call("delete", f"/v1/jobs/{job_id}")


def test_cancel_stops_a_running_job(api):
    job_id = api.shell("w", "while true; do echo x >> /spin; done", query="?background=true")[1]["job_id"]
    api.call("post", f"/v1/jobs/{job_id}/wait", body={"timeout_s": 0.2})
    status, body = api.call("delete", f"/v1/jobs/{job_id}")
    assert status == 200 and body == {"job_id": job_id, "canceled": True}
    job = api.call("get", f"/v1/jobs/{job_id}")[1]
    assert job["status"] == "canceled" and job["cancel_requested"] is True
    size = api.call("post", "/v1/workspaces/w/vfs/stat", body={"path": "/spin"})[1]["stat"]["size"]
    api.shell("w", "sleep 0.2")
    assert api.call("post", "/v1/workspaces/w/vfs/stat", body={"path": "/spin"})[1]["stat"]["size"] == size
    assert api.call("delete", f"/v1/jobs/{job_id}")[1]["canceled"] is False


def test_other_accounts_jobs_are_404(api):
    job_id = api.shell("w", "echo mine", query="?background=true")[1]["job_id"]
    api.call("post", f"/v1/jobs/{job_id}/wait", body={"timeout_s": 10})
    assert api.call("get", f"/v1/jobs/{job_id}", who="bob")[0] == 404
    assert api.call("post", f"/v1/jobs/{job_id}/wait", who="bob", body={})[0] == 404
    assert api.call("delete", f"/v1/jobs/{job_id}", who="bob")[0] == 404
    assert api.call("get", "/v1/jobs", who="bob") == (200, [])
    assert api.call("get", "/v1/jobs/job_unknown")[0] == 404


def test_bad_wait_bodies_are_400(api):
    job_id = api.shell("w", "true", query="?background=true")[1]["job_id"]
    for body in ({"timeout_s": "soon"}, {"timeout_s": -1}, {"timeout_s": True}, {"x": 1}):
        status, answer = api.call("post", f"/v1/jobs/{job_id}/wait", body=body)
        assert status == 400 and answer["error"] == "bad_request"


def test_deleting_the_workspace_cancels_its_jobs(api):
    job_id = api.shell("w", "while true; do :; done", query="?background=true")[1]["job_id"]
    assert api.call("delete", "/v1/workspaces/w")[0] == 200
    assert api.call("get", f"/v1/jobs/{job_id}")[1]["status"] == "canceled"


# ------------------------------------------------------------ the daemon stays responsive

def test_client_disconnect_cancels_the_foreground_line(api):
    """Send a shell request over a raw socket, hang up, and check the line stopped writing."""
    token = api.tokens["alice"]
    body = json.dumps({"command": "while true; do echo x >> /busy; done"}).encode()

    async def hang_up():
        reader, writer = await asyncio.open_connection("127.0.0.1", api.client.port)
        writer.write(b"POST /v1/workspaces/w/shell HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: Bearer " + token.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        await asyncio.sleep(0.3)
        writer.close()
        await asyncio.sleep(0.3)

    api.client._run(hang_up())
    first = api.call("post", "/v1/workspaces/w/vfs/stat", body={"path": "/busy"})[1]["stat"]["size"]
    api.shell("w", "sleep 0.3")
    second = api.call("post", "/v1/workspaces/w/vfs/stat", body={"path": "/busy"})[1]["stat"]["size"]
    assert first > 0 and first == second


def test_running_background_jobs_are_capped_per_account(api, monkeypatch):
    from mirage.server import shell_api
    monkeypatch.setattr(shell_api, "MAX_RUNNING_JOBS", 2)
    ids = [api.shell("w", "sleep 5", query="?background=true")[1]["job_id"] for _ in range(2)]
    status, body = api.shell("w", "sleep 5", query="?background=true")
    assert status == 429 and body["error"] == "too_many_jobs"
    assert api.call("post", "/v1/workspaces", who="bob", body={"config": {}, "id": "bw"})[0] == 201
    assert api.shell("bw", "true", who="bob", query="?background=true")[0] == 202
    for job_id in ids:
        api.call("delete", f"/v1/jobs/{job_id}")


def test_a_line_whose_writes_cannot_be_made_durable_is_a_503_not_a_500(api, monkeypatch):
    from mirage.workspace.fs import WorkspaceFS
    from mirage.workspace.state.log import StateWriteError

    async def disk_full(self):
        raise StateWriteError("the workspace log could not be written: No space left on device")

    monkeypatch.setattr(WorkspaceFS, "commit", disk_full)
    status, body = api.shell("w", "echo x > /f")
    assert status == 503 and body["error"] == "state_write_failed" and "No space" in body["detail"]


def test_an_absurd_wait_timeout_is_400_not_a_500(api):
    job_id = api.shell("w", "true", query="?background=true")[1]["job_id"]
    status, body = api.call("post", f"/v1/jobs/{job_id}/wait", body={"timeout_s": 10**400})
    assert status == 400 and body["field"] == "timeout_s"


def test_jobs_on_one_workspace_register_a_single_close_hook(api):
    for _ in range(3):
        api.shell("w", "true", query="?background=true")
    ws = api.client.app.ctx.workspaces.get("alice", "w")
    hooks = [h for h in ws.close_hooks if getattr(h, "__name__", "") == "on_workspace_close"]
    assert len(hooks) == 1
