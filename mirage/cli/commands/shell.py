"""mirage shell -w ID -c LINE: run one line in a workspace; exit with its exit code."""

from __future__ import annotations

import argparse
import os
import stat
import sys

from mirage.cli.commands import add_common_options
from mirage.cli.context import Context, segment
from mirage.cli.errors import EXIT_REQUEST, CliError
from mirage.cli.output import details, emit, print_json

MAX_STDIN_BYTES = 8 << 20


def configure(shell_p: argparse.ArgumentParser) -> None:
    add_common_options(shell_p)
    shell_p.add_argument("-w", "--workspace", required=True, metavar="ID", help="the workspace id")
    shell_p.add_argument("-c", "--command", required=True, metavar="LINE", help="the shell line to run")
    shell_p.add_argument("--session", metavar="S", help="run in this session (its cwd and env)")
    shell_p.add_argument("--cwd", metavar="DIR", help="working directory for this line")
    shell_p.add_argument("--bg", action="store_true",
                         help="run in the background: print the job id and return (see `mirage job`)")
    shell_p.add_argument("-n", "--no-stdin", action="store_true",
                         help="do not read stdin even when it is a pipe or a file")
    shell_p.set_defaults(func=run_line, needs_context=True)


def piped_stdin() -> bytes | None:
    """stdin's bytes when it is a pipe or a regular file (never a terminal, never /dev/null,
    never a socket that might stay open forever)."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return None
    if not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):
        return None
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise CliError(f"stdin is larger than {MAX_STDIN_BYTES >> 20} MiB; write the data into the "
                       "workspace first and read it from there", EXIT_REQUEST)
    return data


def stdin_fields(data: bytes | None) -> dict:
    """``stdin`` as text when it is UTF-8, else ``stdin_base64``; nothing when there is no input."""
    if not data:
        return {}
    try:
        return {"stdin": data.decode("utf-8")}
    except UnicodeDecodeError:
        import base64

        return {"stdin_base64": base64.b64encode(data).decode("ascii")}


def run_line(ctx: Context, args: argparse.Namespace) -> int:
    body: dict = {"command": args.command}
    if args.session is not None:
        body["session_id"] = args.session
    if args.cwd is not None:
        body["cwd"] = args.cwd
    if not args.no_stdin:
        body.update(stdin_fields(piped_stdin()))
    path = f"/v1/workspaces/{segment(args.workspace)}/shell"
    if args.bg:
        reply = ctx.call("POST", path + "?background=true", body)
        emit(reply.body, ctx.as_json, lambda data: details(data) if isinstance(data, dict) else str(data))
        return 0
    reply = ctx.call("POST", path, body, read_timeout=None)
    result = reply.body if isinstance(reply.body, dict) else {}
    exit_code = result.get("exit_code")
    if not isinstance(exit_code, int) or isinstance(exit_code, bool):
        raise CliError(f"the daemon's answer to the shell line has no exit_code (kind "
                       f"{result.get('kind')!r}); is the daemon newer than this CLI?", EXIT_REQUEST)
    if getattr(args, "json", False):
        print_json(result)
    else:
        write_output(result)
    return exit_code & 0xFF if exit_code >= 0 else 1


def write_output(result: dict) -> None:
    """The line's stdout and stderr to ours, exactly as given."""
    for key, stream in (("stdout", sys.stdout), ("stderr", sys.stderr)):
        text = result.get(key)
        if isinstance(text, str) and text:
            stream.write(text)
            stream.flush()
