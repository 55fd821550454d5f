"""mirage.logs: one event per line, journal priorities, key=value fields, Sanic routed through."""

from __future__ import annotations

import io
import logging
import re

import pytest

from mirage import logs


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    sanic_state = {name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate,
                          logging.getLogger(name).level) for name in logs.SANIC_LOGGERS}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, (old_handlers, propagate, old_level) in sanic_state.items():
        lg = logging.getLogger(name)
        lg.handlers[:] = old_handlers
        lg.propagate, lg.level = propagate, old_level


def _capture(journal: bool, level: str = "debug") -> io.StringIO:
    stream = io.StringIO()
    logs.setup(level, journal=journal, stream=stream)
    return stream


def test_journal_lines_start_with_the_syslog_priority_and_have_no_timestamp(restore_logging):
    stream = _capture(journal=True)
    log = logging.getLogger("mirage.test")
    log.debug("d")
    log.info("i")
    logs.notice(log, "n")
    log.warning("w")
    log.error("e")
    log.critical("c")
    assert stream.getvalue().splitlines() == [
        "<7>mirage.test: d", "<6>mirage.test: i", "<5>mirage.test: n", "<4>mirage.test: w",
        "<3>mirage.test: e", "<2>mirage.test: c",
    ]


def test_plain_lines_carry_a_utc_timestamp_and_the_level_name(restore_logging):
    stream = _capture(journal=False)
    logs.notice(logging.getLogger("mirage.test"), "ready", port=8765)
    line = stream.getvalue().rstrip("\n")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z NOTICE mirage\.test: ready port=8765", line)


def test_notice_sits_between_info_and_warning(restore_logging):
    assert logging.INFO < logs.NOTICE < logging.WARNING
    assert logging.getLevelName(logs.NOTICE) == "NOTICE"
    stream = _capture(journal=True, level="notice")
    log = logging.getLogger("mirage.test")
    log.info("hidden")
    logs.notice(log, "shown")
    assert stream.getvalue() == "<5>mirage.test: shown\n"


def test_set_level_changes_what_is_logged(restore_logging):
    stream = _capture(journal=True, level="info")
    log = logging.getLogger("mirage.test")
    logs.set_level("warning")
    log.info("dropped")
    log.warning("kept")
    assert stream.getvalue() == "<4>mirage.test: kept\n"
    with pytest.raises(ValueError, match="unknown log level"):
        logs.set_level("loud")


def test_field_values_are_bare_words_or_one_line_json_strings():
    assert logs.fields(status=200, path="/v1/health", ok=True, none=None, ms=1.50) == \
        "status=200 path=/v1/health ok=true none=- ms=1.5"
    assert logs.fields(path="/a b") == 'path="/a b"'
    assert logs.fields(reason='x"y\nz') == r'reason="x\"y\nz"'
    assert logs.fields(empty="") == 'empty=""'


def test_an_event_with_newlines_or_a_traceback_stays_on_one_line(restore_logging):
    stream = _capture(journal=True)
    log = logging.getLogger("mirage.test")
    log.warning("first\nsecond")
    try:
        raise RuntimeError("boom\nagain")
    except RuntimeError:
        log.exception("failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0] == r"<4>mirage.test: first\nsecond"
    assert lines[1].startswith("<3>mirage.test: failed exc=") and "RuntimeError: boom" in lines[1]


def test_sanic_loggers_go_through_the_same_handler(restore_logging):
    from sanic import Sanic
    Sanic("logs_test_app")                 # installs Sanic's own stdout handlers
    stream = _capture(journal=True)
    logging.getLogger("sanic.error").error("from sanic")
    logging.getLogger("sanic.root").info("sanic info")
    assert stream.getvalue().splitlines() == ["<3>sanic.error: from sanic", "<6>sanic.root: sanic info"]
    for name in logs.SANIC_LOGGERS:
        assert logging.getLogger(name).handlers == []


def test_setup_twice_keeps_a_single_handler(restore_logging):
    first = io.StringIO()
    logs.setup("info", journal=True, stream=first)
    second = io.StringIO()
    logs.setup("info", journal=True, stream=second)
    logging.getLogger("mirage.test").info("once")
    assert first.getvalue() == "" and second.getvalue() == "<6>mirage.test: once\n"
