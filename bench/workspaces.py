"""Workspace set-up over HTTP (the shapes both daemons share): create, sessions, files, shell."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from client import Client, Reply, fan_out
from servers import RAM_CONFIG, Server


class RouteMissing(RuntimeError):
    """The route answered 404 for a workspace that exists: it has not landed yet."""


class SetupFailed(RuntimeError):
    pass


def create_workspace(client: Client, workspace: str, config: dict = RAM_CONFIG) -> Reply:
    return client.post("/v1/workspaces", {"id": workspace, "config": config})


def ensure_workspace(server: Server, workspace: str) -> None:
    client = server.client()
    try:
        reply = create_workspace(client, workspace, server.dialect.workspace_config)
    finally:
        client.close()
    if reply.status == 404 or reply.status == 405:
        raise RouteMissing(f"POST /v1/workspaces answers {reply.status} (route not landed yet)")
    if reply.status not in (200, 201):
        raise SetupFailed(f"POST /v1/workspaces answered {reply.status}: {reply.detail()}")


def create_many(server: Server, ids: list[str], workers: int = 16) -> None:
    """Create workspaces concurrently; raises on the first failure."""
    replies = fan_out(server.port, server.auth, ids, lambda c, wid: create_workspace(c, wid), workers=workers)
    bad = [r for r in replies if r.status not in (200, 201)]
    if bad:
        raise SetupFailed(f"{len(bad)} of {len(ids)} creates failed, first: {bad[0].status} {bad[0].detail()}")


def vfs_body(path: str, data: bytes) -> dict:
    return {"path": path, "data_base64": base64.b64encode(data).decode()}


def vfs_call(client: Client, workspace: str, call: str, body: dict) -> Reply:
    return client.post(f"/v1/workspaces/{workspace}/vfs/{call}", body)


def write_file(client: Client, workspace: str, path: str, data: bytes) -> Reply:
    return vfs_call(client, workspace, "write", vfs_body(path, data))


def read_back(reply: Reply) -> bytes | None:
    data = reply.json()
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("data_base64"), str):
        return base64.b64decode(data["data_base64"])
    if isinstance(data.get("data"), str):
        return data["data"].encode()
    return None


def write_many(server: Server, workspace: str, files: dict[str, bytes], workers: int = 16) -> None:
    items = list(files.items())
    replies = fan_out(server.port, server.auth, items,
                      lambda c, item: write_file(c, workspace, item[0], item[1]), workers=workers)
    bad = [r for r in replies if r.status not in (200, 201)]
    if bad:
        raise SetupFailed(f"{len(bad)} of {len(items)} vfs writes failed, first: {bad[0].status} {bad[0].detail()}")


@dataclass
class ShellResult:
    status: int
    exit_code: int | None
    stdout: str
    stderr: str
    seconds: float
    detail: str


def shell(server: Server, workspace: str, command: str, session: str | None = None,
          client: Client | None = None) -> ShellResult:
    own = client is None
    client = client or server.client()
    try:
        path, body = server.dialect.shell(workspace, command, session)
        reply = client.post(path, body)
    finally:
        if own:
            client.close()
    data = reply.json() if reply.status == 200 else None
    if isinstance(data, dict):
        return ShellResult(200, data.get("exit_code"), str(data.get("stdout", "")), str(data.get("stderr", "")),
                           reply.seconds, "")
    return ShellResult(reply.status, None, "", "", reply.seconds, reply.detail())


def create_sessions(server: Server, workspace: str, count: int) -> tuple[list[str], str | None]:
    """``count`` new sessions; ([], why) when the sessions route is not there."""
    client = server.client()
    ids: list[str] = []
    try:
        for index in range(count):
            reply = client.post(f"/v1/workspaces/{workspace}/sessions", {})
            if reply.status in (400, 422):
                reply = client.post(f"/v1/workspaces/{workspace}/sessions", {"session_id": f"bench{index}"})
            if reply.status not in (200, 201):
                return [], f"POST /v1/workspaces/{{id}}/sessions answered {reply.status}: {reply.detail()}"
            data = reply.json() or {}
            sid = data.get("session_id") or data.get("id")
            if not isinstance(sid, str):
                return [], f"session create returned no session_id: {reply.body[:120]!r}"
            ids.append(sid)
    finally:
        client.close()
    return ids, None
