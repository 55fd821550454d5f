"""Logging for the daemon: stdlib logging, one event per line, ``key=value`` fields.

Under the journal (stderr is the journal stream) each line starts with its syslog
priority, ``<6>mirage.daemon: ready listen=127.0.0.1:8765``, and carries no timestamp
(journald adds one). Elsewhere a line is ``2026-12-03T15:50:01.123Z INFO mirage.daemon: ...``
on stderr. Sanic's own loggers are routed through the same handler.

Levels: debug < info < notice < warning < error. ``notice`` (25) is the syslog level
between info and warning, used for start / ready / reload / stop.

Never pass a token, a key or an Authorization header to a logger; :func:`fields`
formats values so that one event stays one line whatever the value holds.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any, TextIO

NOTICE = 25
logging.addLevelName(NOTICE, "NOTICE")

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": NOTICE,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

# Python level -> syslog priority (sd-daemon(3): <3> error ... <7> debug)
_PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (NOTICE, 5),
               (logging.INFO, 6))
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "sanic.websockets")

_BARE = re.compile(r"[A-Za-z0-9_.:/@+,\[\]-]+")


def syslog_priority(levelno: int) -> int:
    for threshold, priority in _PRIORITIES:
        if levelno >= threshold:
            return priority
    return 7


def value_text(value: Any) -> str:
    """A field value: bare when it is a simple word, else a JSON string (one line)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") or "0"
    text = str(value)
    if _BARE.fullmatch(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def fields(**values: Any) -> str:
    """``fields(path="/a b", status=200)`` -> ``path="/a b" status=200``."""
    return " ".join(f"{key}={value_text(value)}" for key, value in values.items())


def event(logger: logging.Logger, level: int, what: str, **values: Any) -> None:
    """Log one event: ``what`` (a short word or phrase) followed by its fields."""
    if logger.isEnabledFor(level):
        logger.log(level, "%s %s" % (what, fields(**values)) if values else what)


def notice(logger: logging.Logger, what: str, **values: Any) -> None:
    event(logger, NOTICE, what, **values)


class _OneLine(logging.Formatter):
    """Formats message (+ exception) as a single line: newlines become ``\\n``."""

    def body(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text = f"{text} exc={json.dumps(record.exc_text, ensure_ascii=False)}"
        if record.stack_info:
            text = f"{text} stack={json.dumps(record.stack_info, ensure_ascii=False)}"
        text = text.replace("\r", "\\r").replace("\n", "\\n")
        return f"{record.name}: {text}"


class JournalFormatter(_OneLine):
    """``<N>name: message`` — priority prefix, no timestamp (journald stamps lines)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"<{syslog_priority(record.levelno)}>{self.body(record)}"


class PlainFormatter(_OneLine):
    """``2026-12-03T15:50:01.123Z LEVEL name: message`` (UTC)."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        millis = int(record.msecs)
        return f"{stamp}.{millis:03d}Z {record.levelname} {self.body(record)}"


def level_number(level: str) -> int:
    try:
        return LEVELS[level.lower()]
    except KeyError:
        raise ValueError(f"unknown log level {level!r} (one of {', '.join(LEVELS)})") from None


def setup(level: str = "info", *, journal: bool = False, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record (mirage.* and sanic.*) to one stderr handler.

    Replaces handlers previously installed on the root logger by this function, so it
    can be called again (tests, the sanic CLI path). Returns the handler.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_mirage", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler._mirage = True  # type: ignore[attr-defined]
    handler.setFormatter(JournalFormatter() if journal else PlainFormatter())
    root.addHandler(handler)
    set_level(level)
    adopt_sanic_loggers()
    return handler


def set_level(level: str) -> None:
    """Change the lowest level logged (start and reload)."""
    logging.getLogger().setLevel(level_number(level))


def adopt_sanic_loggers() -> None:
    """Route Sanic's loggers through the root handler instead of their own stdout ones.

    Sanic's constructor installs its handlers with ``logging.config.dictConfig``; call
    this after the app is built.
    """
    for name in SANIC_LOGGERS:
        sanic_logger = logging.getLogger(name)
        for handler in list(sanic_logger.handlers):
            sanic_logger.removeHandler(handler)
        sanic_logger.propagate = True
        # their level follows ours (sanic.websockets keeps Sanic's own WARNING floor)
        if name != "sanic.websockets":
            sanic_logger.setLevel(logging.NOTSET)
