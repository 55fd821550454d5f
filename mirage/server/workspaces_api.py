"""Workspace routes: create/list/get/delete and the VFS calls (JSON, public Mirage shapes).

    POST   /v1/workspaces                       {config, id?} → 201 detail (200 when it exists, same config)
    GET    /v1/workspaces                       [{id, mode, mount_count, session_count, created_at}]
    GET    /v1/workspaces/<id>                  detail
    DELETE /v1/workspaces/<id>                  {id, closed_at}
    POST   /v1/workspaces/<id>/vfs/<call>       read write append stat readdir exists mkdir rmdir unlink rename truncate

Errors: ``{"error", "detail"}``; VFS errors add ``"errno"`` (ENOENT 404; EACCES/EPERM/EROFS 403;
EEXIST/ENOTEMPTY 409; others 400); a bad workspace.yaml is 422 with ``"field"``.
"""

from __future__ import annotations

import base64
import binascii
import errno
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from sanic import Blueprint, Sanic
from sanic import json as json_response
from sanic.request import Request
from sanic.response import HTTPResponse

from mirage.server.errors import ApiError
from mirage.settings import ConfigError, Settings
from mirage.workspace.engine import WorkspaceEngine, engine_from_settings
from mirage.workspace.errors import (Conflict, InvalidConfig, InvalidRequest, NotFound, StateDirError,
                                     Unavailable, WorkspaceError)
from mirage.workspace.state.log import StateWriteError
from mirage.workspace.vfs.base import FileStat, VfsError
from mirage.workspace.workspace import Workspace

log = logging.getLogger("mirage.http")

# the largest offset/size/length a VFS call takes: a file offset (off_t) bound
MAX_OFFSET = 2**63 - 1

bp = Blueprint("workspaces")

ERRNO_STATUS = {
    errno.ENOENT: (404, "not_found"),
    errno.EACCES: (403, "forbidden"),
    errno.EPERM: (403, "forbidden"),
    errno.EROFS: (403, "forbidden"),
    errno.EEXIST: (409, "conflict"),
    errno.ENOTEMPTY: (409, "conflict"),
}


# ------------------------------------------------------------ plumbing

def engine_of(request: Request) -> WorkspaceEngine:
    return request.app.ctx.workspaces


def account_of(request: Request) -> str:
    principal = getattr(request.ctx, "principal", None)
    if principal is None:          # the gate guarantees one on these routes; fail closed anyway
        raise ApiError(401, "unauthorized", "missing bearer token")
    return principal.account


def body_object(request: Request, *, required: bool = True) -> dict[str, Any]:
    raw = request.body or b""
    if not raw.strip():
        if required:
            raise ApiError(400, "bad_request", "a JSON object body is required")
        return {}
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_request", f"malformed JSON: {str(exc)[:200]}") from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    return parsed


def engine_error(exc: WorkspaceError) -> ApiError:
    if isinstance(exc, InvalidConfig):
        return ApiError(422, exc.code, exc.detail, field=exc.field)
    status = {NotFound: 404, Conflict: 409, InvalidRequest: 400, Unavailable: 503}.get(type(exc), 400)
    return ApiError(status, exc.code, exc.detail)


def vfs_error(exc: VfsError) -> ApiError:
    status, code = ERRNO_STATUS.get(exc.code, (400, "bad_request"))
    return ApiError(status, code, str(exc), errno=exc.errno_name)


def workspace_of(request: Request, workspace_id: str) -> Workspace:
    try:
        return engine_of(request).get(account_of(request), workspace_id)
    except WorkspaceError as exc:
        raise engine_error(exc) from None


# ------------------------------------------------------------ workspaces

@bp.post("/v1/workspaces")
async def create_workspace(request: Request) -> HTTPResponse:
    account = account_of(request)
    body = body_object(request)
    extra = sorted(set(body) - {"config", "id"})
    if extra:
        raise ApiError(400, "bad_request", f"unknown body key {extra[0]!r} (allowed: config, id)")
    if "config" not in body:
        raise ApiError(400, "bad_request", "config is required (the workspace.yaml content)")
    workspace_id = body.get("id")
    if workspace_id is not None and not isinstance(workspace_id, str):
        raise ApiError(400, "bad_request", "id must be a string")
    try:
        ws, created = await engine_of(request).create(account, body["config"], workspace_id)
    except WorkspaceError as exc:
        raise engine_error(exc) from None
    except OSError as exc:
        log.error("workspace create failed error=%s", exc.strerror or exc)
        raise ApiError(503, "state_write_failed", "the workspace could not be stored") from None
    return json_response(ws.detail(), status=201 if created else 200)


@bp.get("/v1/workspaces")
async def list_workspaces(request: Request) -> HTTPResponse:
    return json_response(engine_of(request).list(account_of(request)))


@bp.get("/v1/workspaces/<workspace_id>")
async def get_workspace(request: Request, workspace_id: str) -> HTTPResponse:
    return json_response(workspace_of(request, workspace_id).detail())


@bp.delete("/v1/workspaces/<workspace_id>")
async def delete_workspace(request: Request, workspace_id: str) -> HTTPResponse:
    try:
        closed_at = await engine_of(request).delete(account_of(request), workspace_id)
    except WorkspaceError as exc:
        raise engine_error(exc) from None
    return json_response({"id": workspace_id, "closed_at": closed_at})


# ------------------------------------------------------------ VFS calls

class Args:
    """Strict access to a VFS call's JSON arguments."""

    def __init__(self, call: str, body: dict[str, Any], allowed: set[str]):
        extra = sorted(set(body) - allowed)
        if extra:
            raise ApiError(400, "bad_request", f"vfs/{call}: unknown argument {extra[0]!r}")
        self.call, self.body = call, body

    def _fail(self, problem: str) -> ApiError:
        return ApiError(400, "bad_request", f"vfs/{self.call}: {problem}")

    def path(self, name: str = "path") -> str:
        value = self.body.get(name)
        if not isinstance(value, str):
            raise self._fail(f"{name} is required and must be a string")
        return value

    def integer(self, name: str, default: int | None = None, *, required: bool = False) -> int | None:
        value = self.body.get(name, default)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(f"{name} must be an integer")
        if value < 0:
            raise self._fail(f"{name} must not be negative")
        if value > MAX_OFFSET:
            raise self._fail(f"{name} must be at most {MAX_OFFSET}")
        return value

    def flag(self, name: str) -> bool:
        value = self.body.get(name, False)
        if not isinstance(value, bool):
            raise self._fail(f"{name} must be true or false")
        return value

    def data(self) -> bytes:
        has_b64, has_text = "data_base64" in self.body, "data" in self.body
        if has_b64 == has_text:
            raise self._fail("give exactly one of data_base64 (bytes) or data (text)")
        if has_text:
            if not isinstance(self.body["data"], str):
                raise self._fail("data must be a string")
            try:
                return self.body["data"].encode("utf-8")
            except UnicodeEncodeError:
                raise self._fail("data is not valid Unicode text") from None
        value = self.body["data_base64"]
        if not isinstance(value, str):
            raise self._fail("data_base64 must be a string")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise self._fail("data_base64 is not valid base64") from None


def stat_json(path: str, st: FileStat) -> dict[str, Any]:
    name = path.rstrip("/").rsplit("/", 1)[-1] or "/"
    modified = datetime.fromtimestamp(st.mtime, tz=timezone.utc).isoformat() if st.mtime else None
    return {"name": name, "type": st.type, "size": st.size, "mtime": st.mtime, "modified": modified,
            "mode": st.mode}


async def _read(ws: Workspace, body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    a = Args("read", body, {"path", "offset", "size", "encoding"})
    encoding = body.get("encoding", "base64")
    if encoding not in ("base64", "utf-8"):
        raise a._fail("encoding must be base64 or utf-8")
    data = await ws.fs.read(a.path(), a.integer("offset", 0) or 0, a.integer("size"),
                            max_bytes=settings.server_max_body_bytes)
    if encoding == "utf-8":
        return {"data": data.decode("utf-8", errors="replace")}
    return {"data_base64": base64.b64encode(data).decode("ascii")}


async def _write(ws: Workspace, body: dict[str, Any], settings: Settings, *,
                 append: bool = False) -> dict[str, Any]:
    a = Args("append" if append else "write", body, {"path", "data_base64", "data"})
    await ws.fs.write(a.path(), a.data(), append=append)
    await ws.commit()
    return {}


async def _append(ws: Workspace, body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return await _write(ws, body, settings, append=True)


async def _stat(ws: Workspace, body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    a = Args("stat", body, {"path"})
    path = a.path()
    return {"stat": stat_json(path, await ws.fs.stat(path))}


async def _readdir(ws: Workspace, body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    a = Args("readdir", body, {"path"})
    return {"entries": await ws.fs.readdir(a.path())}


async def _exists(ws: Workspace, body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    a = Args("exists", body, {"path"})
    return {"exists": await ws.fs.exists(a.path())}


async def _mkdir(ws: Workspace, body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    a = Args("mkdir", body, {"path", "parents", "exist_ok"})
    await ws.fs.mkdir(a.path(), parents=a.flag("parents"), exist_ok=a.flag("exist_ok"))
    await ws.commit()
    return {}


async def _rmdir(ws: Workspace, body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    await ws.fs.rmdir(Args("rmdir", body, {"path"}).path())
    await ws.commit()
    return {}


async def _unlink(ws: Workspace, body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    await ws.fs.unlink(Args("unlink", body, {"path"}).path())
    await ws.commit()
    return {}


async def _rename(ws: Workspace, body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    a = Args("rename", body, {"src", "dst"})
    await ws.fs.rename(a.path("src"), a.path("dst"))
    await ws.commit()
    return {}


async def _truncate(ws: Workspace, body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    a = Args("truncate", body, {"path", "length"})
    await ws.fs.truncate(a.path(), a.integer("length", required=True))
    await ws.commit()
    return {}


VFS_CALLS: dict[str, Callable[[Workspace, dict[str, Any], Settings], Awaitable[dict[str, Any]]]] = {
    "read": _read, "write": _write, "append": _append, "stat": _stat, "readdir": _readdir,
    "exists": _exists, "mkdir": _mkdir, "rmdir": _rmdir, "unlink": _unlink, "rename": _rename,
    "truncate": _truncate,
}


@bp.post("/v1/workspaces/<workspace_id>/vfs/<call>")
async def vfs_call(request: Request, workspace_id: str, call: str) -> HTTPResponse:
    ws = workspace_of(request, workspace_id)
    handler = VFS_CALLS.get(call)
    if handler is None:
        raise ApiError(404, "not_found", f"unknown vfs call {call[:64]!r} (known: {', '.join(VFS_CALLS)})")
    body = body_object(request)
    try:
        result = await handler(ws, body, request.app.ctx.settings)
    except VfsError as exc:
        raise vfs_error(exc) from None
    except StateWriteError as exc:
        raise ApiError(503, "state_write_failed", str(exc)) from None
    return json_response(result)


# ------------------------------------------------------------ wiring

def install(app: Sanic) -> WorkspaceEngine:
    """Attach the engine to ``app`` (restore before serving, persist after stopping)."""
    engine = engine_from_settings(app.ctx.settings, multi_tenant=app.ctx.settings.auth_mode == "jwt")
    app.ctx.workspaces = engine
    app.ctx.workspace_count = engine.count
    app.blueprint(bp)

    @app.before_server_start
    async def restore_workspaces(app_, _loop=None):
        try:
            await engine.start()
        except StateDirError as exc:
            settings = app_.ctx.settings
            raise ConfigError("state_dir", settings.source_of("state_dir"), exc.detail) from None

    @app.after_server_stop
    async def persist_workspaces(app_, _loop=None):
        await engine.stop()

    return engine
