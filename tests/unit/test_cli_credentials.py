"""Which token the CLI sends where: the local token file never leaves this machine, and a
hand-given token must be a valid bearer token (no header injection, no traceback)."""

from __future__ import annotations

import argparse

import pytest

from mirage.auth.token_file import mint_or_load
from mirage.cli.context import Context
from mirage.cli.environment import read_environment
from mirage.cli.errors import EXIT_AUTH, CliError


def context(tmp_path, url: str, **env) -> Context:
    variables = {"HOME": str(tmp_path), "MIRAGE_HOME": str(tmp_path / "m"), "MIRAGE_DAEMON_URL": url, **env}
    return Context(argparse.Namespace(token=None, url=None, json=True), read_environment(variables))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:8765",
                                 "unix:///run/mirage/mirage.sock"])
def test_the_local_token_file_is_sent_to_a_daemon_on_this_machine(tmp_path, url):
    token = mint_or_load(tmp_path / "m" / "auth_token")
    assert context(tmp_path, url).token().token == token


@pytest.mark.parametrize("url", ["http://192.0.2.7:8765", "http://mirage.example.com:8765",
                                 "https://127.0.0.1:8765"])
def test_the_local_token_file_is_never_sent_to_another_host(tmp_path, url):
    mint_or_load(tmp_path / "m" / "auth_token")
    choice = context(tmp_path, url).token()
    assert choice.token is None
    assert "not sent to a daemon that is not on this machine" in choice.where_looked()


def test_an_explicit_token_is_still_sent_to_a_remote_daemon(tmp_path):
    assert context(tmp_path, "http://192.0.2.7:8765", MIRAGE_TOKEN="tok_abc").token().token == "tok_abc"


@pytest.mark.parametrize("bad", ["tok€n", "a b", "tok\r\nX-Injected: 1", "x" * 9000])
def test_a_token_that_is_not_a_bearer_token_is_refused_without_echoing_it(tmp_path, bad):
    with pytest.raises(CliError) as err:
        context(tmp_path, "http://127.0.0.1:8765", MIRAGE_TOKEN=bad).token()
    assert err.value.exit_code == EXIT_AUTH and "MIRAGE_TOKEN" in str(err.value)
    assert bad not in str(err.value)
