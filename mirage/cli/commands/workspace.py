"""mirage workspace create|list|get|delete"""

from __future__ import annotations

import argparse

from mirage.cli.commands import add_common_options
from mirage.cli.context import Context, segment
from mirage.cli.output import details, emit, table


def configure(group: argparse.ArgumentParser) -> None:
    sub = group.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")

    create_p = sub.add_parser(
        "create", help="create a workspace from a workspace.yaml",
        description="Create a workspace from FILE (YAML or JSON; '-' reads stdin). ${VAR} in string values "
                    "is replaced from the environment ($${VAR} keeps it literal); every missing variable "
                    "is listed. Starts a local daemon if none answers at a local URL.")
    add_common_options(create_p)
    create_p.add_argument("file", metavar="FILE.yaml", help="the workspace file")
    create_p.add_argument("--id", dest="workspace_id", metavar="ID",
                          help="the workspace id (1-128 of A-Z a-z 0-9 . _ -); generated if omitted")
    create_p.set_defaults(func=create, needs_context=True)

    list_p = sub.add_parser("list", help="list workspaces",
                            description="List the workspaces this token can see.")
    add_common_options(list_p)
    list_p.set_defaults(func=list_workspaces, needs_context=True)

    get_p = sub.add_parser("get", help="show one workspace",
                           description="Show a workspace: its mode, mounts and sessions.")
    add_common_options(get_p)
    get_p.add_argument("workspace_id", metavar="ID")
    get_p.set_defaults(func=get, needs_context=True)

    delete_p = sub.add_parser("delete", help="delete a workspace and its stored state",
                              description="Delete a workspace; what its RAM mounts held is removed.")
    add_common_options(delete_p)
    delete_p.add_argument("workspace_id", metavar="ID")
    delete_p.set_defaults(func=delete, needs_context=True)


def _render_detail(record: dict) -> str:
    text = details(record, skip=("mounts", "sessions"))
    mounts = record.get("mounts")
    if isinstance(mounts, list):
        text += "\n\n" + table(mounts, ("prefix", "vfs", "mode"), empty="(no mounts)")
    sessions = record.get("sessions")
    if isinstance(sessions, list) and sessions:
        text += "\n\n" + table(sessions, ("session_id", "cwd"))
    return text


def create(ctx: Context, args: argparse.Namespace) -> int:
    from mirage.cli.workspace_file import load_workspace_config

    config = load_workspace_config(args.file, ctx.env.variables)
    body: dict = {"config": config}
    if args.workspace_id is not None:
        body["id"] = args.workspace_id
    reply = ctx.call("POST", "/v1/workspaces", body, spawn=True)
    record = reply.body if isinstance(reply.body, dict) else {}

    def render(data: dict) -> str:
        verb = "created" if reply.status == 201 else "already exists with the same config:"
        return f"workspace {data.get('id', '?')} {verb}\n\n" + _render_detail(data)

    emit(record, ctx.as_json, render)
    return 0


def list_workspaces(ctx: Context, args: argparse.Namespace) -> int:
    reply = ctx.call("GET", "/v1/workspaces")
    rows = reply.body if isinstance(reply.body, list) else []
    emit(rows, ctx.as_json,
         lambda data: table(data, ("id", "mode", "mount_count", "session_count", "created_at"),
                            empty="(no workspaces)"))
    return 0


def get(ctx: Context, args: argparse.Namespace) -> int:
    reply = ctx.call("GET", f"/v1/workspaces/{segment(args.workspace_id)}")
    emit(reply.body, ctx.as_json, _render_detail)
    return 0


def delete(ctx: Context, args: argparse.Namespace) -> int:
    reply = ctx.call("DELETE", f"/v1/workspaces/{segment(args.workspace_id)}")
    emit(reply.body, ctx.as_json, lambda data: f"workspace {args.workspace_id} deleted")
    return 0
