"""Entry point of the `mirage` command.

Import path is standard library only (argparse, http.client, json): sanic, jwt,
cryptography and yaml are imported inside the handlers that need them
(``daemon run``, ``config show``, ``workspace create``)."""

from __future__ import annotations

import argparse
import functools
import os
import sys

from mirage.cli.errors import CliError

EPILOG = """\
connection: --url, else MIRAGE_DAEMON_URL, else http://127.0.0.1:8765 (unix:///PATH.sock works too)
token:      --token, else MIRAGE_TOKEN, else MIRAGE_HOME/auth_token (default ~/.mirage/auth_token)
output:     a table on a terminal, JSON otherwise or with --json
exit codes: 0 ok, 1 daemon unreachable, 2 usage or request error, 3 auth refused;
            `mirage shell` exits with the line's exit code"""


# argparse translates every message it builds through gettext.gettext, which looks for catalogues
# on disk on every call (about 40 lookups per parser). The answer cannot change within a process,
# so remember it per message: the same output, a fraction of the start-up time.
argparse._ = functools.lru_cache(maxsize=None)(argparse._)


def _columns() -> int:
    """The terminal width, as shutil.get_terminal_size finds it (shutil itself is a slow import)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    # argparse builds a formatter for every add_argument(); the stock one imports shutil each time
    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        super().__init__(prog, indent_increment, max_help_position, width or max(_columns() - 2, 40))


class _RawDescriptionFormatter(_Formatter, argparse.RawDescriptionHelpFormatter):
    pass


class _Parser(argparse.ArgumentParser):
    """ArgumentParser with our formatter; subcommand parsers inherit the class."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


# (name, one-line help, description, module): only the module of the group being run is imported
GROUPS = (
    ("workspace", "create, list, inspect and delete workspaces",
     "Workspaces: a virtual filesystem of mounts that shell lines run against.", "mirage.cli.commands.workspace"),
    ("shell", "run a shell line in a workspace",
     "Run LINE inside the daemon against the workspace's mounts. The line's stdout and stderr go to "
     "this process's stdout and stderr, and mirage exits with the line's exit code. Data piped or "
     "redirected into mirage becomes the line's stdin.", "mirage.cli.commands.shell"),
    ("session", "shell sessions: each keeps its own cwd and env",
     "Sessions of a workspace; pass one to `mirage shell --session`.", "mirage.cli.commands.session"),
    ("job", "background jobs started by `mirage shell --bg`",
     "Background jobs: list, inspect, wait for and cancel them.", "mirage.cli.commands.job"),
    ("daemon", "run, check or stop the daemon",
     "Run the daemon in the foreground, or check and stop one.", "mirage.cli.commands.daemon"),
    ("config", "inspect the configuration", "Inspect the daemon's resolved configuration.", "mirage.cli.commands.config"),
    ("token", "show the local token file's path and whether it is valid",
     "Print where the local token file is (MIRAGE_HOME/auth_token, default ~/.mirage/auth_token) and "
     "whether it is valid. The token itself is printed only with --show (alone on stdout, for "
     "$(mirage token --show)). Exit 3 if it is missing or refused.", "mirage.cli.commands.token"),
    ("completion", "print a shell completion script",
     "Print a shell completion script generated from these commands.", "mirage.cli.completion"),
)
_TOP_OPTIONS_WITH_VALUES = ("--url", "--token")


def _requested_group(argv: list[str]) -> str | None:
    """The group named on the command line (first word that is not a top-level option)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word in _TOP_OPTIONS_WITH_VALUES:
            skip = True
            continue
        if word == "--":
            return None
        if not word.startswith("-"):
            return word
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (given ``argv``) one whose only fully built group is the one asked for."""
    parser = _Parser(prog="mirage", description="Mirage: workspaces for AI agents, served by a daemon; "
                     "this command is its client.", epilog=EPILOG, formatter_class=_RawDescriptionFormatter)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--token", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", default=False, help=argparse.SUPPRESS)
    parser.add_argument("--spawn", action="store_true", default=False, help=argparse.SUPPRESS)
    groups = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    wanted = None if argv is None else _requested_group(argv)
    for name, help_text, description, module in GROUPS:
        group = groups.add_parser(name, help=help_text, description=description)
        if argv is None or name == wanted:
            __import__(module, fromlist=["configure"]).configure(group)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
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
