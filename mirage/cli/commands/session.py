"""mirage session create|list|delete"""

from __future__ import annotations

import argparse

from mirage.cli.commands import add_common_options
from mirage.cli.context import Context, segment
from mirage.cli.output import details, emit, table


def configure(group: argparse.ArgumentParser) -> None:
    sub = group.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")

    create_p = sub.add_parser("create", help="create a session",
                              description="Create a session in a workspace.")
    add_common_options(create_p)
    create_p.add_argument("-w", "--workspace", required=True, metavar="ID", help="the workspace id")
    create_p.add_argument("--id", dest="session_id", metavar="S", help="the session id (generated if omitted)")
    create_p.add_argument("--cwd", metavar="DIR", help="the session's starting directory")
    create_p.set_defaults(func=create, needs_context=True)

    list_p = sub.add_parser("list", help="list a workspace's sessions",
                            description="List the sessions of a workspace.")
    add_common_options(list_p)
    list_p.add_argument("-w", "--workspace", required=True, metavar="ID", help="the workspace id")
    list_p.set_defaults(func=list_sessions, needs_context=True)

    delete_p = sub.add_parser("delete", help="delete a session",
                              description="Delete a session of a workspace.")
    add_common_options(delete_p)
    delete_p.add_argument("-w", "--workspace", required=True, metavar="ID", help="the workspace id")
    delete_p.add_argument("session_id", metavar="S", help="the session id")
    delete_p.set_defaults(func=delete, needs_context=True)


def _base(args: argparse.Namespace) -> str:
    return f"/v1/workspaces/{segment(args.workspace)}/sessions"


def create(ctx: Context, args: argparse.Namespace) -> int:
    body: dict = {}
    if args.session_id is not None:
        body["session_id"] = args.session_id
    if args.cwd is not None:
        body["cwd"] = args.cwd
    reply = ctx.call("POST", _base(args), body)
    emit(reply.body, ctx.as_json, details)
    return 0


def list_sessions(ctx: Context, args: argparse.Namespace) -> int:
    reply = ctx.call("GET", _base(args))
    rows = reply.body if isinstance(reply.body, list) else []
    emit(rows, ctx.as_json, lambda data: table(data, ("session_id", "cwd"), empty="(no sessions)"))
    return 0


def delete(ctx: Context, args: argparse.Namespace) -> int:
    reply = ctx.call("DELETE", f"{_base(args)}/{segment(args.session_id)}")
    emit(reply.body, ctx.as_json, lambda data: f"session {args.session_id} deleted")
    return 0
