"""Print mirage(1) in roff, generated from the CLI's own argparse parser.

Run with the interpreter that has mirage installed (packaging/build uses the package
venv), so the page always matches the shipped `mirage --help` texts.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys

from mirage.cli.main import build_parser


def _escape(text: str) -> str:
    lines = []
    for line in text.replace("\\", "\\e").splitlines():
        # a line starting with . or ' would be read as a roff request
        lines.append("\\&" + line if line.startswith((".", "'")) else line)
    return "\n".join(lines)


def _subcommands(parser: argparse.ArgumentParser, prefix: str):
    """Yield (full command name, parser) for every subcommand, depth first."""
    for action in parser._actions:  # argparse offers no public walk
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix} {name}"
                yield full, sub
                yield from _subcommands(sub, full)


def render() -> str:
    os.environ["COLUMNS"] = "78"  # stable wrapping of the help texts
    parser = build_parser()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or None
    day = datetime.datetime.fromtimestamp(epoch, datetime.UTC) if epoch else datetime.datetime.now(datetime.UTC)
    out = [
        f'.TH MIRAGE 1 "{day:%Y-%m-%d}" "mirage" "User Commands"',
        ".SH NAME",
        "mirage \\- workspaces for AI agents: the daemon and its client",
        ".SH SYNOPSIS",
        ".B mirage",
        ".I COMMAND",
        "[\\fIOPTIONS\\fR]",
        ".SH DESCRIPTION",
        _escape(parser.description or ""),
        ".PP",
        "Installed as a package, the daemon runs as the systemd service",
        ".B mirage.service",
        "(user \\fImirage\\fR), started on the first connection to",
        ".B mirage.socket",
        "(127.0.0.1:8765 and [::1]:8765).",
        ".SH OPTIONS AND COMMANDS",
        ".nf",
        _escape(parser.format_help()),
        ".fi",
    ]
    for name, sub in _subcommands(parser, "mirage"):
        out += [f".SS {_escape(name)}", ".nf", _escape(sub.format_help()), ".fi"]
    out += [
        ".SH FILES",
        ".TP", "/etc/mirage/mirage.yaml", "the daemon's configuration (every key, its MIRAGE_* name and default)",
        ".TP", "/var/lib/mirage", "the service's home: auth_token and state/ (every workspace)",
        ".TP", "/usr/lib/mirage/venv", "the application and its pinned dependencies",
        ".SH SEE ALSO",
        ".BR systemctl (1),",
        ".BR journalctl (1),",
        ".BR systemd.socket (5)",
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(render())
