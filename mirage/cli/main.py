"""Entry point of the `mirage` command.

Import path is standard library only (argparse, http.client, json): sanic, jwt,
cryptography and yaml are imported inside the handlers that need them
(``daemon run``, ``config show``, ``workspace create``)."""

from __future__ import annotations

import argparse
import sys

from mirage.cli.commands import config, daemon, job, session, shell, token, workspace
from mirage.cli.errors import CliError

EPILOG = """\
connection: --url, else MIRAGE_DAEMON_URL, else http://127.0.0.1:8765 (unix:///PATH.sock works too)
token:      --token, else MIRAGE_TOKEN, else MIRAGE_HOME/auth_token (default ~/.mirage/auth_token)
output:     a table on a terminal, JSON otherwise or with --json
exit codes: 0 ok, 1 daemon unreachable, 2 usage or request error, 3 auth refused;
            `mirage shell` exits with the line's exit code"""


def _common_options() -> argparse.ArgumentParser:
    """Options every client command takes, before or after the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output")
    group.add_argument("--url", default=argparse.SUPPRESS, metavar="URL",
                       help="daemon URL (MIRAGE_DAEMON_URL; default http://127.0.0.1:8765)")
    group.add_argument("--token", default=argparse.SUPPRESS, metavar="TOKEN",
                       help="bearer token (MIRAGE_TOKEN; default: the local token file)")
    group.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                       help="print JSON (the default when stdout is not a terminal)")
    group.add_argument("--spawn", action="store_true", default=argparse.SUPPRESS,
                       help="start a local daemon if none answers at a local URL")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mirage", description="Mirage: workspaces for AI agents, "
                                     "served by a daemon; this command is its client.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--token", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", default=False, help=argparse.SUPPRESS)
    parser.add_argument("--spawn", action="store_true", default=False, help=argparse.SUPPRESS)
    groups = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    common = _common_options()
    for module in (workspace, shell, session, job, daemon, config, token):
        module.register(groups, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.needs_context:
            from mirage.cli.context import Context

            return args.func(Context(args), args)
        return args.func(args)
    except CliError as exc:
        _report(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        _report("interrupted")
        return 130
    except BrokenPipeError:
        # the reader went away (`mirage ... | head`): no traceback, and none at exit either
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _report(message: str) -> None:
    try:
        print(f"mirage: {message}", file=sys.stderr)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
