"""Shell, session and job routes (JSON, public Mirage shapes).

    POST   /v1/workspaces/<id>/shell            {command, session_id?, cwd?, stdin? | stdin_base64?} → 200 {"kind": "io", exit_code, stdout, stderr}
                                                ?background=true → 202 {job_id, workspace_id, submitted_at}
    POST   /v1/workspaces/<id>/sessions         {session_id?, cwd?, env?} → 201 {session_id, cwd, created_at}
    GET    /v1/workspaces/<id>/sessions         [{session_id, cwd, created_at}]
    DELETE /v1/workspaces/<id>/sessions/<sid>   {session_id}
    GET    /v1/jobs[?workspace_id=]             [job brief]
    GET    /v1/jobs/<job_id>                    job detail (with result once done)
    POST   /v1/jobs/<job_id>/wait               {timeout_s?} → job detail
    DELETE /v1/jobs/<job_id>                    {job_id, canceled}

A job of another account is 404, like a missing one. Lines run inside the daemon
against the workspace filesystem (``mirage.workspace.shell``); a client that
disconnects cancels its foreground line (Sanic cancels the handler task).
"""

from __future__ import annotations

import base64
import binascii

import re
import secrets
from typing import Any

from sanic import Blueprint, Sanic
from sanic import json as json_response
from sanic.request import Request
from sanic.response import HTTPResponse

from mirage.server.errors import ApiError
from mirage.server.workspaces_api import account_of, body_object, workspace_of
from mirage.workspace.session import DEFAULT_SESSION_ID, Session, valid_session_id
from mirage.workspace.shell.jobs import Job, JobManager
from mirage.workspace.shell.runner import Limits, run_line
from mirage.workspace.state.log import StateWriteError
from mirage.workspace.shell.state import normalize

bp = Blueprint("shell")

MAX_WAIT_SECONDS = 3600.0
MAX_RUNNING_JOBS = 64          # per account; each job is bounded by the line's time limit
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def install(app: Sanic) -> None:
    """Register the routes and the job table (cancelled first at stop)."""
    jobs = JobManager()
    app.ctx.shell_jobs = jobs
    app.blueprint(bp)
    if hasattr(app.ctx, "busy_checks"):
        app.ctx.busy_checks.append(jobs.busy)
    if hasattr(app.ctx, "stop_hooks"):
        app.ctx.stop_hooks.insert(0, jobs.shutdown)   # before the engine persists


def jobs_of(request: Request) -> JobManager:
    return request.app.ctx.shell_jobs


def limits_of(request: Request) -> Limits:
    settings = request.app.ctx.settings
    return Limits(timeout_seconds=float(settings.shell_timeout_seconds),
                  output_limit_bytes=int(settings.shell_output_limit_bytes))


def _bad(detail: str, field: str) -> ApiError:
    return ApiError(400, "bad_request", detail, field=field)


def _check_keys(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise _bad(f"unknown body key {extra[0]!r} (allowed: {', '.join(sorted(allowed))})", extra[0])


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _bad(f"{name} is required and must be a string", name)
        return None
    if not isinstance(value, str):
        raise _bad(f"{name} must be a string", name)
    if "\x00" in value:
        raise _bad(f"{name} must not contain NUL bytes", name)
    return value


def _cwd(body: dict[str, Any]) -> str | None:
    cwd = _text(body, "cwd")
    if cwd is None:
        return None
    if not cwd.startswith("/"):
        raise _bad("cwd must be an absolute workspace path", "cwd")
    return normalize(cwd)


def _stdin(body: dict[str, Any]) -> bytes:
    """The line's standard input: ``stdin`` (text) or ``stdin_base64`` (bytes), never both."""
    if "stdin" in body and "stdin_base64" in body:
        raise _bad("give stdin or stdin_base64, not both", "stdin_base64")
    if "stdin_base64" in body:
        encoded = body["stdin_base64"]
        if not isinstance(encoded, str):
            raise _bad("stdin_base64 must be a base64 string", "stdin_base64")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise _bad("stdin_base64 is not valid base64", "stdin_base64") from None
    value = body.get("stdin")
    if value is None:
        return b""
    if not isinstance(value, str):
        raise _bad("stdin must be a string", "stdin")
    return value.encode("utf-8", "surrogatepass")


def _session_id(value: Any, field: str = "session_id") -> str | None:
    if value is None:
        return None
    if not valid_session_id(value):
        raise _bad(f"{field} must be 1-128 characters of [A-Za-z0-9._-] (not '.' or '..')", field)
    return value


def _flag(request: Request, name: str) -> bool:
    raw = request.args.get(name)
    if raw is None:
        return False
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on", ""):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise _bad(f"query parameter {name} must be true or false", name)


def session_in(ws, session_id: str | None) -> Session:
    sid = session_id or DEFAULT_SESSION_ID
    session = ws.sessions.get(sid)
    if session is None:
        if sid == DEFAULT_SESSION_ID:
            session = ws.sessions[sid] = Session(sid)
        else:
            raise ApiError(404, "not_found", f"no session {sid!r} in workspace {ws.id!r}")
    return session


def _session_json(session: Session) -> dict[str, Any]:
    return {"session_id": session.id, "cwd": session.cwd, "created_at": session.created_at}


# ------------------------------------------------------------ shell

@bp.post("/v1/workspaces/<workspace_id>/shell")
async def shell(request: Request, workspace_id: str) -> HTTPResponse:
    account = account_of(request)
    ws = workspace_of(request, workspace_id)
    body = body_object(request)
    _check_keys(body, {"command", "session_id", "cwd", "stdin", "stdin_base64"})
    command = _text(body, "command", required=True)
    stdin = _stdin(body)
    session_id = _session_id(body.get("session_id")) or _session_id(
        request.args.get("session_id"), "session_id")
    cwd = _cwd(body)
    background = _flag(request, "background")
    session = session_in(ws, session_id)
    limits = limits_of(request)

    async def run():
        return await run_line(ws.fs, command, session=session, cwd=cwd, limits=limits, stdin=stdin)

    if background:
        if jobs_of(request).running(account) >= MAX_RUNNING_JOBS:
            raise ApiError(429, "too_many_jobs",
                           f"{MAX_RUNNING_JOBS} background jobs are already running for this account")
        job = jobs_of(request).submit(account, ws.id, command, session.id, run)
        _cancel_jobs_on_close(request, ws)
        return json_response({"job_id": job.id, "workspace_id": ws.id,
                              "submitted_at": job.submitted_at}, status=202,
                             headers={"X-Mirage-Job-Id": job.id})
    try:
        result = await run()
    except StateWriteError as exc:        # the line ran but its writes could not be made durable
        raise ApiError(503, "state_write_failed", str(exc)) from None
    return json_response(result.to_json())


def _cancel_jobs_on_close(request: Request, ws) -> None:
    """When the workspace is deleted, its running jobs are cancelled (one hook per
    workspace: a bound method compares equal to itself)."""
    hook = jobs_of(request).on_workspace_close
    if hook not in ws.close_hooks:
        ws.close_hooks.append(hook)


# ------------------------------------------------------------ sessions

@bp.post("/v1/workspaces/<workspace_id>/sessions")
async def create_session(request: Request, workspace_id: str) -> HTTPResponse:
    ws = workspace_of(request, workspace_id)
    body = body_object(request, required=False)
    _check_keys(body, {"session_id", "cwd", "env"})
    sid = _session_id(body.get("session_id")) or f"sess_{secrets.token_hex(6)}"
    cwd = _cwd(body) or "/"
    env = body.get("env", {})
    if not isinstance(env, dict):
        raise _bad("env must be an object of NAME: string", "env")
    for name, value in env.items():
        if not _ENV_NAME.fullmatch(name) or not isinstance(value, str) or "\x00" in value:
            raise _bad(f"env.{name}: names are shell identifiers and values strings", "env")
    if sid in ws.sessions:
        raise ApiError(409, "conflict", f"session id already exists: {sid!r}")
    session = ws.sessions[sid] = Session(sid, cwd=cwd, env=dict(env))
    return json_response(_session_json(session), status=201)


@bp.get("/v1/workspaces/<workspace_id>/sessions")
async def list_sessions(request: Request, workspace_id: str) -> HTTPResponse:
    ws = workspace_of(request, workspace_id)
    return json_response([_session_json(s) for s in ws.sessions.values()])


@bp.delete("/v1/workspaces/<workspace_id>/sessions/<session_id>")
async def delete_session(request: Request, workspace_id: str, session_id: str) -> HTTPResponse:
    ws = workspace_of(request, workspace_id)
    if session_id not in ws.sessions:
        raise ApiError(404, "not_found", f"no session {session_id!r} in workspace {ws.id!r}")
    del ws.sessions[session_id]
    if session_id == DEFAULT_SESSION_ID:           # the default always exists: deleting resets it
        ws.sessions[session_id] = Session(session_id)
    return json_response({"session_id": session_id})


# ------------------------------------------------------------ jobs

def job_of(request: Request, job_id: str) -> Job:
    job = jobs_of(request).get(account_of(request), job_id)
    if job is None:
        raise ApiError(404, "not_found", "job not found")
    return job


@bp.get("/v1/jobs")
async def list_jobs(request: Request) -> HTTPResponse:
    workspace_id = request.args.get("workspace_id")
    jobs = jobs_of(request).list(account_of(request), workspace_id)
    return json_response([j.summary() for j in jobs])


@bp.get("/v1/jobs/<job_id>")
async def get_job(request: Request, job_id: str) -> HTTPResponse:
    return json_response(job_of(request, job_id).detail())


@bp.post("/v1/jobs/<job_id>/wait")
async def wait_job(request: Request, job_id: str) -> HTTPResponse:
    job = job_of(request, job_id)
    body = body_object(request, required=False)
    _check_keys(body, {"timeout_s"})
    timeout = body.get("timeout_s")
    if timeout is None:
        timeout = MAX_WAIT_SECONDS
    elif isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout < 1e9:
        raise _bad("timeout_s must be a non-negative number of seconds", "timeout_s")
    await jobs_of(request).wait(job, min(float(timeout), MAX_WAIT_SECONDS))
    return json_response(job.detail())


@bp.delete("/v1/jobs/<job_id>")
async def cancel_job(request: Request, job_id: str) -> HTTPResponse:
    job = job_of(request, job_id)
    canceled = await jobs_of(request).cancel(job)
    return json_response({"job_id": job.id, "canceled": canceled})
