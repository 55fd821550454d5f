"""Journal-friendly logging of the real daemon: <N> prefixes, no secrets."""

from __future__ import annotations

import os
import re
import signal

from systemd_helpers import (  # noqa: F401  (harness is a fixture)
    GOOD_TOKEN, OTHER_TOKEN, harness, http, write_config,
)

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def _daemon_lines(log: str) -> list[str]:
    """The lines written after systemd-socket-activate exec'd the daemon."""
    lines = log.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Execing "))
    return lines[start + 1:]


def _journal_stream_for(path) -> str:
    path.touch()
    info = os.stat(path)
    return f"{info.st_dev}:{info.st_ino}"


def test_under_the_journal_every_line_has_a_priority_prefix_and_no_timestamp(harness, tmp_path):
    journal = _journal_stream_for(tmp_path / "journal.log")
    process, (address,) = harness.activated(harness.env(JOURNAL_STREAM=journal), log_name="journal.log")
    assert http(address)[0] == 200
    assert http(address, path="/v1/x", token="not-the-token")[0] == 401
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0

    lines = _daemon_lines(process.log())
    assert lines and all(re.match(r"<[0-7]>[a-z.]+: \S", line) for line in lines), lines
    assert not any(TIMESTAMP.search(line) for line in lines)
    by_prefix = "\n".join(lines)
    assert re.search(r"^<5>mirage\.daemon: starting .*journal=true", by_prefix, re.M)
    assert re.search(r"^<5>mirage\.daemon: ready ", by_prefix, re.M)
    assert re.search(r"^<6>mirage\.access: request method=GET path=/v1/health status=200", by_prefix, re.M)
    assert re.search(r"^<4>mirage\.auth: auth refused ", by_prefix, re.M)
    assert re.search(r"^<5>mirage\.daemon: stopped reason=SIGTERM", by_prefix, re.M)


def test_journal_stream_of_another_file_gives_timestamped_lines(harness, tmp_path):
    other = _journal_stream_for(tmp_path / "not-my-stderr")
    process, (address,) = harness.activated(harness.env(JOURNAL_STREAM=other))
    assert http(address)[0] == 200
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0
    lines = _daemon_lines(process.log())
    assert lines and all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|NOTICE|WARNING|ERROR) ", line)
                         for line in lines), lines
    assert "journal=false" in process.log()


def test_no_token_appears_in_any_line_across_good_and_bad_tokens_and_a_rotation(harness, tmp_path):
    journal = _journal_stream_for(tmp_path / "journal.log")
    config = tmp_path / "mirage.yaml"
    listener = harness.notify_listener()
    process, (address,) = harness.activated(
        harness.env(JOURNAL_STREAM=journal, MIRAGE_LOG_LEVEL="debug", NOTIFY_SOCKET=listener.address),
        log_name="journal.log")
    near_miss = GOOD_TOKEN[:-1] + "X"
    assert http(address, path="/v1/a", token=GOOD_TOKEN)[0] == 404
    assert http(address, path="/v1/a", token=near_miss)[0] == 401
    assert http(address, path="/v1/a", token=OTHER_TOKEN)[0] == 401
    assert http(address, path=f"/v1/a?token={GOOD_TOKEN}", token="short")[0] == 401
    assert http(address, path=f"/v1/a?access_token={GOOD_TOKEN}", token=GOOD_TOKEN)[0] == 404

    write_config(config, token=OTHER_TOKEN)
    process.signal(signal.SIGHUP)
    process.wait_log("reloaded")
    assert http(address, path="/v1/b", token=OTHER_TOKEN)[0] == 404
    assert http(address, path="/v1/b", token=GOOD_TOKEN)[0] == 401
    config.write_text(f"auth:\n  mode: token\n  token: {GOOD_TOKEN}\n  oops: [\n")    # refused reload
    process.signal(signal.SIGHUP)
    process.wait_log("reload refused")
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0

    log = process.log()
    assert "auth refused" in log and "reload refused" in log
    for secret in (GOOD_TOKEN, near_miss, OTHER_TOKEN):
        assert secret not in log
        assert secret[:12] not in log                      # not even a prefix
    for message in listener.snapshot():
        assert not any(secret in value for value in message.values() for secret in (GOOD_TOKEN, OTHER_TOKEN))


def test_access_lines_can_be_turned_off_while_auth_refusals_stay(harness):
    process, (address,) = harness.activated(harness.env(MIRAGE_LOG_ACCESS="false"))
    assert http(address)[0] == 200
    assert http(address, path="/v1/x", token="not-the-token")[0] == 401
    process.wait_log(r"WARNING mirage\.auth: auth refused ")
    process.signal(signal.SIGTERM)
    assert process.wait_exit() == 0
    assert "mirage.access" not in process.log()
    assert re.search(r"NOTICE mirage\.daemon: stopped reason=SIGTERM requests=2", process.log())
