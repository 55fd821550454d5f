"""What the CLI puts on the wire and how it reads answers, observed with a recording HTTP server
on a real socket (TCP or unix). These pin the request shapes the daemon's routes rely on."""

from __future__ import annotations

import json
import socketserver
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from test_cli_harness import MIRAGE, base_environment


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: object


@dataclass
class Recorder:
    """Answers every request with ``reply`` (status, body, headers) and records it."""

    reply: tuple[int, object, dict[str, str]] = (200, [], {})
    seen: list[Recorded] = field(default_factory=list)

    def handler(self):
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                recorder.seen.append(Recorded(self.command, self.path,
                                              {k.lower(): v for k, v in self.headers.items()},
                                              json.loads(raw) if raw else None))
                status, body, headers = recorder.reply
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                chunked = headers.get("Transfer-Encoding") == "chunked"
                if not chunked:
                    self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if chunked:   # three pieces, sizes in hex, then the last chunk
                    for piece in (data[:5], data[5:9], data[9:]):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, *args):
                pass

        return Handler


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        request, _ = super().get_request()
        return request, ("local", 0)


@pytest.fixture
def server(tmp_path):
    recorder = Recorder()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), recorder.handler())
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    recorder.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield recorder
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def run(tmp_path, server):
    home = tmp_path / "home"
    home.mkdir()

    def run_cli(*args: str, input: str | bytes | None = None, env: dict | None = None,
                url: str | None = None) -> subprocess.CompletedProcess:
        environ = base_environment(home)
        environ.update({"MIRAGE_DAEMON_URL": url or server.url, "MIRAGE_TOKEN": "tok"})
        environ.update(env or {})
        return subprocess.run([MIRAGE, *args], env=environ, cwd=tmp_path, input=input,
                              stdin=None if input is not None else subprocess.DEVNULL,
                              capture_output=True, timeout=60, text=not isinstance(input, bytes))

    return run_cli


def write(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text)
    return name


# ------------------------------------------------------------------ workspace.yaml expansion

def test_workspace_create_expands_variables_inside_strings_without_changing_structure(tmp_path, server, run):
    server.reply = (201, {"id": "w", "mounts": []}, {})
    name = write(tmp_path, "ws.yaml", "mounts:\n  /data:\n    vfs: disk\n    mode: READ\n"
                                      "    config: {root: '${ROOT}/corpus', note: '$${KEEP} literal'}\n")
    tricky = "/srv\nmounts: {}\n# not a comment"
    result = run("workspace", "create", name, "--id", "w", env={"ROOT": tricky})
    assert result.returncode == 0, result.stderr
    (request,) = server.seen
    assert (request.method, request.path) == ("POST", "/v1/workspaces")
    assert request.body["id"] == "w"
    assert request.body["config"]["mounts"]["/data"]["config"] == {"root": tricky + "/corpus",
                                                                  "note": "${KEEP} literal"}
    assert request.headers["authorization"] == "Bearer tok"


def test_workspace_create_lists_every_missing_variable_in_one_error_and_sends_nothing(tmp_path, server, run):
    name = write(tmp_path, "ws.yaml", "mounts:\n  /a: {vfs: disk, config: {root: '${FIRST}'}}\n"
                                      "  /b: {vfs: disk, config: {root: '${PRESENT}'}}\n"
                                      "  /c: {vfs: disk, config: {root: '${SECOND}/x/${FIRST}'}}\n")
    result = run("workspace", "create", name, env={"PRESENT": "/p"})
    assert result.returncode == 2
    assert "FIRST (line 2)" in result.stderr
    assert "SECOND (line 4)" in result.stderr
    assert "PRESENT" not in result.stderr
    assert server.seen == []


def test_workspace_create_accepts_json_files(tmp_path, server, run):
    server.reply = (201, {"id": "j"}, {})
    name = write(tmp_path, "ws.json", json.dumps({"mounts": {"/": {"vfs": "ram", "mode": "${MODE}"}}}))
    assert run("workspace", "create", name, env={"MODE": "WRITE"}).returncode == 0
    assert server.seen[0].body == {"config": {"mounts": {"/": {"vfs": "ram", "mode": "WRITE"}}}}


@pytest.mark.parametrize("text, problem", [
    ("mounts:\n  /: [unclosed\n", "ws.yaml:3: invalid YAML"),
    ("- a\n- b\n", "top level must be a mapping"),
    ("", "the file is empty"),
    ("mounts: {'/': {vfs: ram, mode: '${1BAD}'}}\n", "malformed"),
])
def test_workspace_create_reports_bad_files_with_exit_2(tmp_path, server, run, text, problem):
    name = write(tmp_path, "ws.yaml", text)
    result = run("workspace", "create", name)
    assert result.returncode == 2
    assert problem in result.stderr
    assert server.seen == []


def test_workspace_create_of_a_missing_file_names_it(server, run):
    result = run("workspace", "create", "nope.yaml")
    assert result.returncode == 2
    assert "nope.yaml: no such file" in result.stderr


# ------------------------------------------------------------------ shell

IO = {"kind": "io", "exit_code": 0, "stdout": "", "stderr": ""}


def test_shell_sends_utf8_stdin_as_text(server, run):
    server.reply = (200, IO, {})
    assert run("shell", "-w", "w", "-c", "wc -l", input="a\nb\né\n").returncode == 0
    assert server.seen[0].body == {"command": "wc -l", "stdin": "a\nb\né\n"}
    assert server.seen[0].path == "/v1/workspaces/w/shell"


def test_shell_sends_binary_stdin_as_base64(server, run):
    server.reply = (200, IO, {})
    assert run("shell", "-w", "w", "-c", "cat", input=b"\xff\x00\xfe").returncode == 0
    assert server.seen[0].body == {"command": "cat", "stdin_base64": "/wD+"}


def test_shell_without_piped_input_or_with_no_stdin_sends_no_stdin_field(server, run):
    server.reply = (200, IO, {})
    assert run("shell", "-w", "w", "-c", "true").returncode == 0
    assert run("shell", "-w", "w", "-c", "true", "-n", input="ignored").returncode == 0
    assert [r.body for r in server.seen] == [{"command": "true"}, {"command": "true"}]


def test_shell_sends_session_and_cwd_and_quotes_the_workspace_id(server, run):
    server.reply = (200, IO, {})
    run("shell", "-w", "a b/c", "-c", "pwd", "--session", "s1", "--cwd", "/x")
    assert server.seen[0].path == "/v1/workspaces/a%20b%2Fc/shell"
    assert server.seen[0].body == {"command": "pwd", "session_id": "s1", "cwd": "/x"}


def test_shell_copies_the_lines_streams_and_exit_code(server, run):
    server.reply = (200, {"kind": "io", "exit_code": 42, "stdout": "to out\n", "stderr": "to err\n"}, {})
    result = run("shell", "-w", "w", "-c", "x")
    assert (result.returncode, result.stdout, result.stderr) == (42, "to out\n", "to err\n")


def test_shell_background_asks_for_a_job_and_prints_it(server, run):
    server.reply = (202, {"job_id": "j1", "workspace_id": "w", "submitted_at": 1.0}, {})
    result = run("shell", "-w", "w", "-c", "sleep 1", "--bg")
    assert result.returncode == 0
    assert server.seen[0].path == "/v1/workspaces/w/shell?background=true"
    assert json.loads(result.stdout)["job_id"] == "j1"


def test_job_wait_sends_the_timeout(server, run):
    server.reply = (200, {"job_id": "j1", "status": "done"}, {})
    assert run("job", "wait", "j1", "--timeout", "5").returncode == 0
    assert (server.seen[0].method, server.seen[0].path, server.seen[0].body) == \
        ("POST", "/v1/jobs/j1/wait", {"timeout_s": 5.0})


def test_session_and_job_routes(server, run):
    server.reply = (200, {}, {})
    run("session", "create", "-w", "w", "--id", "s", "--cwd", "/d")
    run("session", "delete", "-w", "w", "s")
    run("job", "cancel", "j")
    run("job", "get", "j")
    run("job", "list", "-w", "w")
    assert [(r.method, r.path, r.body) for r in server.seen] == [
        ("POST", "/v1/workspaces/w/sessions", {"session_id": "s", "cwd": "/d"}),
        ("DELETE", "/v1/workspaces/w/sessions/s", None),
        ("DELETE", "/v1/jobs/j", None),
        ("GET", "/v1/jobs/j", None),
        ("GET", "/v1/jobs?workspace_id=w", None),
    ]


# ------------------------------------------------------------------ answers and errors

def test_a_401_naming_the_auth_mode_is_reported_with_exit_3_and_a_hint(server, run):
    server.reply = (401, {"error": "unauthorized", "detail": "invalid token", "auth_mode": "jwt"},
                    {"WWW-Authenticate": 'Bearer realm="mirage", error="invalid_token"'})
    result = run("workspace", "list")
    assert result.returncode == 3
    assert "daemon auth mode: jwt" in result.stderr
    assert "JWT" in result.stderr
    assert "tok" not in result.stderr.replace("token", "")


def test_an_unknown_route_says_the_daemon_does_not_offer_it(server, run):
    server.reply = (404, {"error": "not_found", "detail": "Requested URL /v1/jobs not found"}, {})
    result = run("job", "list")
    assert result.returncode == 2
    assert "does not offer GET /v1/jobs" in result.stderr


def test_a_request_error_prints_the_daemons_detail_with_exit_2(server, run):
    server.reply = (409, {"error": "conflict", "detail": "workspace w exists with another config"}, {})
    result = run("workspace", "delete", "w")
    assert result.returncode == 2
    assert "workspace w exists with another config (HTTP 409, conflict)" in result.stderr


def test_something_that_is_not_a_mirage_daemon_is_named_as_such(server, run):
    server.reply = (200, b"<html>hello</html>", {})
    result = run("workspace", "list")
    assert result.returncode == 2
    assert "not JSON" in result.stderr


@pytest.mark.parametrize("url", ["ftp://x", "http://", "unix://relative.sock", "http://h:99999"])
def test_a_bad_url_is_a_usage_error_naming_its_source(run, url):
    result = run("workspace", "list", env={"MIRAGE_DAEMON_URL": url})
    assert result.returncode == 2
    assert "MIRAGE_DAEMON_URL" in result.stderr


def test_unix_socket_urls_reach_the_daemon(tmp_path, run):
    recorder = Recorder(reply=(200, [{"id": "u"}], {}))
    path = tmp_path / "d.sock"
    httpd = _UnixHTTPServer(str(path), recorder.handler())
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        result = run("workspace", "list", "--url", f"unix://{path}")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"id": "u"}]
    assert recorder.seen[0].headers["host"] == "localhost"


def test_a_missing_unix_socket_is_unreachable_and_never_spawns(tmp_path, run):
    result = run("workspace", "list", "--spawn", "--url", f"unix://{tmp_path}/none.sock")
    assert result.returncode == 1
    assert "no socket at" in result.stderr
    assert not (tmp_path / "home" / ".mirage" / "daemon.pid").exists()


def test_a_chunked_answer_is_read_whole(server, run):
    rows = [{"id": f"w{i}", "mode": "write"} for i in range(50)]
    server.reply = (200, rows, {"Transfer-Encoding": "chunked"})
    result = run("workspace", "list")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == rows
