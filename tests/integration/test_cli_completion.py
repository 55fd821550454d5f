"""Bash completion: generated from the parser, checked in, and working in a real bash."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import mirage.cli.completion as completion
from test_cli_harness import MIRAGE, TOKEN, WORKSPACE_YAML, cli, token_daemon  # noqa: F401  (fixtures)

SCRIPT = Path(completion.__file__).with_name("mirage.bash")


def complete(line: str, env: dict[str, str]) -> list[str]:
    """What bash offers after ``line`` (completing its last word)."""
    program = f"""
source {SCRIPT}
COMP_WORDS=({line})
[[ "{line}" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_mirage
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    result = subprocess.run(["bash", "-c", program], env=env, capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return [word for word in result.stdout.splitlines() if word]


def test_the_checked_in_script_is_what_the_commands_generate(cli):
    result = cli.run("completion", "bash")
    assert result.returncode == 0
    assert result.stdout == SCRIPT.read_text(), "run: mirage completion bash > mirage/cli/completion/mirage.bash"


def test_bash_completes_groups_subcommands_and_options(cli):
    env = dict(cli.env, PATH=f"{os.path.dirname(MIRAGE)}:{cli.env.get('PATH', '')}")
    assert complete("mirage wo", env) == ["workspace"]
    assert complete("mirage workspace ", env) == ["create", "list", "get", "delete"]
    assert "--workspace" in complete("mirage shell --", env)
    assert complete("mirage --url http://x job w", env) == ["wait"]


def test_bash_completes_workspace_ids_from_the_daemon(cli, token_daemon):
    cli.env["MIRAGE_TOKEN"] = TOKEN
    (cli.home / "workspace.yaml").write_text(WORKSPACE_YAML)
    for name in ("alpha", "beta"):
        assert cli.run("workspace", "create", "workspace.yaml", "--id", name).returncode == 0
    env = dict(cli.env, PATH=f"{os.path.dirname(MIRAGE)}:{cli.env.get('PATH', '')}")
    assert complete("mirage workspace get ", env) == ["alpha", "beta"]
    assert complete("mirage shell -w a", env) == ["alpha"]
