"""One module per command group, each with ``configure(group_parser)``; main.py lists them
and imports only the group being run (argparse and imports are most of the CLI's start-up).

Handlers are ``handler(ctx, args) -> int`` for client commands (``needs_context`` True) or
``handler(args) -> int`` for the daemon-side ones (``daemon run``, ``config show``)."""

from __future__ import annotations

import argparse


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every client command takes; they may also come before the command
    (``mirage --json workspace list``), which is why they default to SUPPRESS here."""
    group = parser.add_argument_group("connection and output")
    group.add_argument("--url", default=argparse.SUPPRESS, metavar="URL",
                       help="daemon URL (MIRAGE_DAEMON_URL; default http://127.0.0.1:8765)")
    group.add_argument("--token", default=argparse.SUPPRESS, metavar="TOKEN",
                       help="bearer token (MIRAGE_TOKEN; default: the local token file)")
    group.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                       help="print JSON (the default when stdout is not a terminal)")
    group.add_argument("--spawn", action="store_true", default=argparse.SUPPRESS,
                       help="start a local daemon if none answers at a local URL")
