"""Output: a readable table when stdout is a terminal, JSON otherwise (or with --json)."""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence


def wants_json(flag: bool, stream: io.TextIOBase | None = None) -> bool:
    stream = stream or sys.stdout
    if flag:
        return True
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):
        return True


def print_json(data: object, stream: io.TextIOBase | None = None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def emit(data: object, as_json: bool, render: Callable[[object], str]) -> None:
    """JSON when asked (or not a terminal); otherwise ``render(data)``."""
    if as_json:
        print_json(data)
    else:
        text = render(data)
        if text:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")


def cell(value: object, key: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and key.endswith(("_at", "_time")):
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value).replace("\n", "\\n")


def table(rows: Iterable[dict[str, object]], columns: Sequence[str], empty: str = "(none)") -> str:
    """Aligned columns with an upper-case header; unknown keys are ignored, missing ones show '-'."""
    rows = [row for row in rows if isinstance(row, dict)]
    if not rows:
        return empty
    grid = [[c.upper() for c in columns]]
    grid += [[cell(row.get(c), c) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in grid) for i in range(len(columns))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip() for line in grid]
    return "\n".join(lines)


def details(record: dict[str, object], skip: Sequence[str] = ()) -> str:
    """``key: value`` lines for one record, in the daemon's order."""
    if not isinstance(record, dict):
        return cell(record)
    keys = [k for k in record if k not in skip]
    if not keys:
        return ""
    width = max(len(k) for k in keys)
    return "\n".join(f"{k + ':':<{width + 1}} {cell(record[k], k)}" for k in keys)
