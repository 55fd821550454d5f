"""mirage job list|get|wait|cancel — background shell lines (`mirage shell --bg`)."""

from __future__ import annotations

import argparse
from urllib.parse import urlencode

from mirage.cli.commands import add_common_options
from mirage.cli.context import Context, segment
from mirage.cli.errors import EXIT_REQUEST, CliError
from mirage.cli.output import details, emit, table

_COLUMNS = ("job_id", "workspace_id", "session_id", "status", "command")


def configure(group: argparse.ArgumentParser) -> None:
    sub = group.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")

    list_p = sub.add_parser("list", help="list jobs", description="List jobs.")
    add_common_options(list_p)
    list_p.add_argument("-w", "--workspace", metavar="ID", help="only this workspace's jobs")
    list_p.set_defaults(func=list_jobs, needs_context=True)

    get_p = sub.add_parser("get", help="show a job", description="Show one job.")
    add_common_options(get_p)
    get_p.add_argument("job_id", metavar="JOB")
    get_p.set_defaults(func=get, needs_context=True)

    wait_p = sub.add_parser("wait", help="wait for a job to finish",
                            description="Wait until the job finishes or the timeout passes, then show it.")
    add_common_options(wait_p)
    wait_p.add_argument("job_id", metavar="JOB")
    wait_p.add_argument("--timeout", type=float, default=60.0, metavar="S",
                        help="longest wait in seconds (default 60)")
    wait_p.set_defaults(func=wait, needs_context=True)

    cancel_p = sub.add_parser("cancel", help="cancel a job", description="Cancel a job.")
    add_common_options(cancel_p)
    cancel_p.add_argument("job_id", metavar="JOB")
    cancel_p.set_defaults(func=cancel, needs_context=True)


def _render(record: dict) -> str:
    if not isinstance(record, dict):
        return str(record)
    text = details(record, skip=("result",))
    result = record.get("result")
    if isinstance(result, dict):
        text += "\n\nresult:\n" + details(result)
    elif result is not None:
        text += f"\n\nresult: {result}"
    return text


def list_jobs(ctx: Context, args: argparse.Namespace) -> int:
    path = "/v1/jobs"
    if args.workspace:
        path += "?" + urlencode({"workspace_id": args.workspace})
    reply = ctx.call("GET", path)
    rows = reply.body if isinstance(reply.body, list) else []
    if args.workspace:
        rows = [row for row in rows if not isinstance(row, dict)
                or row.get("workspace_id") in (None, args.workspace)]
    emit(rows, ctx.as_json, lambda data: table(data, _COLUMNS, empty="(no jobs)"))
    return 0


def get(ctx: Context, args: argparse.Namespace) -> int:
    reply = ctx.call("GET", f"/v1/jobs/{segment(args.job_id)}")
    emit(reply.body, ctx.as_json, _render)
    return 0


def wait(ctx: Context, args: argparse.Namespace) -> int:
    if not 0 <= args.timeout <= 86400:
        raise CliError("--timeout must be between 0 and 86400 seconds", EXIT_REQUEST)
    reply = ctx.call("POST", f"/v1/jobs/{segment(args.job_id)}/wait", {"timeout_s": args.timeout},
                     read_timeout=args.timeout + 30.0)
    emit(reply.body, ctx.as_json, _render)
    return 0


def cancel(ctx: Context, args: argparse.Namespace) -> int:
    reply = ctx.call("DELETE", f"/v1/jobs/{segment(args.job_id)}")
    emit(reply.body, ctx.as_json, _render)
    return 0
