"""The CLI's import path is standard library only for client commands: proven by running a
command to completion in a fresh interpreter and looking at sys.modules afterwards."""

from __future__ import annotations

import json
import subprocess
import sys

from test_cli_harness import TOKEN, WORKSPACE_YAML, cli, token_daemon  # noqa: F401  (fixtures)

HEAVY = ("sanic", "jwt", "cryptography", "yaml", "uvloop", "httptools", "multidict", "sdnotify",
         "mirage.server", "mirage.settings", "mirage.workspace", "mirage.auth.build", "mirage.auth.guard")

PROBE = """
import json, sys
from mirage.cli.main import main
sys.argv = ["mirage"] + json.loads(sys.argv[1])
try:
    code = main()
except SystemExit as exc:
    code = exc.code
sys.stderr.write("\\n@@" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def run_and_list_modules(cli, *args: str, input: str | None = None) -> tuple[int, list[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], env=cli.env, cwd=cli.home,
                            input=input, stdin=None if input is not None else subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60)
    report = json.loads(result.stderr.rsplit("\n@@", 1)[1])
    return report["code"], report["modules"]


def heavy_among(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_client_commands_import_nothing_outside_the_standard_library(cli, token_daemon):
    cli.env["MIRAGE_TOKEN"] = TOKEN
    for args in (["workspace", "list"], ["daemon", "status"], ["token"], ["job", "list"],
                 ["shell", "-w", "none", "-c", "true"]):
        code, modules = run_and_list_modules(cli, *args)
        assert code in (0, 2, 3), args          # ran to completion (2: a route missing or a 404)
        assert heavy_among(modules) == [], args


def test_reading_the_local_token_file_stays_stdlib_only(cli, token_daemon):
    cli.mirage_home.mkdir(mode=0o700, exist_ok=True)
    (cli.mirage_home / "auth_token").write_text("local-file-token\n")
    (cli.mirage_home / "auth_token").chmod(0o600)
    code, modules = run_and_list_modules(cli, "workspace", "list")
    assert code == 3                             # the token daemon refuses the file's token
    assert "mirage.auth.token_file" in modules
    assert heavy_among(modules) == []


def test_workspace_create_imports_yaml_but_not_the_server(cli, token_daemon):
    cli.env["MIRAGE_TOKEN"] = TOKEN
    (cli.home / "workspace.yaml").write_text(WORKSPACE_YAML)
    code, modules = run_and_list_modules(cli, "workspace", "create", "workspace.yaml", "--id", "imp")
    assert code in (0, 2)
    assert "yaml" in modules
    assert [m for m in heavy_among(modules) if not m.startswith("yaml")] == []
