"""Read a workspace.yaml (or JSON) file and expand ``${VAR}`` from the CLI's environment.

Expansion happens after parsing, inside string values and keys only: a variable's value is
always text in the place it was written and can never change the document's structure
(a value holding a newline, a colon or ``#`` stays one string). ``$${NAME}`` is a literal
``${NAME}``. Every missing variable is listed in one error, with the line it first appears on.

YAML is parsed here, in the CLI, with PyYAML imported only by this module (which only
``mirage workspace create`` imports): the daemon's API takes ``config`` as a JSON object,
the file's line numbers stay available for error messages, and every other command keeps
its stdlib-only import path.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from typing import Any

from mirage.cli.errors import EXIT_REQUEST, CliError

_REFERENCE = re.compile(r"\$(\$?)\{([^}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_FILE_BYTES = 4 << 20


def read_text(path: str) -> tuple[str, str]:
    """(text, shown name). ``-`` reads standard input."""
    shown = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise CliError(f"{shown}: no such file", EXIT_REQUEST) from None
    except IsADirectoryError:
        raise CliError(f"{shown}: is a directory, not a workspace file", EXIT_REQUEST) from None
    except OSError as exc:
        raise CliError(f"{shown}: {exc.strerror or exc}", EXIT_REQUEST) from None
    if len(data) > MAX_FILE_BYTES:
        raise CliError(f"{shown}: larger than {MAX_FILE_BYTES >> 20} MiB; not a workspace file", EXIT_REQUEST)
    try:
        return data.decode("utf-8-sig"), shown
    except UnicodeDecodeError as exc:
        raise CliError(f"{shown}: not UTF-8 text (byte {exc.start})", EXIT_REQUEST) from None


def parse(text: str, shown: str) -> Any:
    """JSON when the document starts with ``{``, else YAML (safe loader)."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CliError(f"{shown}:{exc.lineno}: invalid JSON: {exc.msg}", EXIT_REQUEST) from None
    import yaml  # only here: keeps every other command's import path stdlib-only

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise CliError(f"{shown}{line}: invalid YAML: {problem}", EXIT_REQUEST) from None


def _first_line(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1


def expand(document: Any, environ: Mapping[str, str], text: str, shown: str) -> Any:
    """Replace ``${NAME}`` in every string; raise one CliError listing all problems."""
    missing: dict[str, int | None] = {}
    malformed: dict[str, int | None] = {}

    def substitute(match: re.Match[str]) -> str:
        escaped, name = match.group(1), match.group(2)
        if escaped:
            return "${" + name + "}"
        if not _NAME.match(name):
            malformed.setdefault(match.group(0), _first_line(text, match.group(0)))
            return match.group(0)
        if name not in environ:
            missing.setdefault(name, _first_line(text, match.group(0)))
            return match.group(0)
        return environ[name]

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return _REFERENCE.sub(substitute, node)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {walk(key) if isinstance(key, str) else key: walk(value) for key, value in node.items()}
        return node

    result = walk(document)
    problems = []
    if missing:
        listed = ", ".join(f"{name} (line {line})" if line else name for name, line in missing.items())
        problems.append(f"environment variables not set: {listed}")
    if malformed:
        listed = ", ".join(f"{ref} (line {line})" if line else ref for ref, line in malformed.items())
        problems.append(f"malformed references (use ${{NAME}}, or $${{...}} for a literal): {listed}")
    if problems:
        raise CliError(f"{shown}: " + "; ".join(problems), EXIT_REQUEST)
    return result


def load_workspace_config(path: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``config`` object to send in ``POST /v1/workspaces``."""
    text, shown = read_text(path)
    document = parse(text, shown)
    if document is None:
        raise CliError(f"{shown}: the file is empty", EXIT_REQUEST)
    if not isinstance(document, dict):
        raise CliError(f"{shown}: the top level must be a mapping (with mounts:), got "
                       f"{type(document).__name__}", EXIT_REQUEST)
    config = expand(document, environ, text, shown)
    try:
        json.dumps(config)
    except (TypeError, ValueError) as exc:
        raise CliError(f"{shown}: a value cannot be sent as JSON ({exc}); quote it to make it text",
                       EXIT_REQUEST) from None
    return config
