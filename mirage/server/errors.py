"""Every error leaves as JSON ``{"error": code, "detail": text}`` — mapped here, in one place."""

from __future__ import annotations

import logging

from sanic import Sanic, json
from sanic.exceptions import MethodNotAllowed, NotFound, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger("mirage.http")


class ApiError(Exception):
    """Raise from a handler (or the gate) to answer with a JSON error."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None,
                 **extra):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def error_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None,
                   **extra) -> HTTPResponse:
    body = {"error": code, "detail": detail, **extra}
    return json(body, status=status, headers=headers)


_SANIC_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    416: "range_not_satisfiable",
    417: "expectation_failed",
    431: "request_header_fields_too_large",
    421: "misdirected_request",
    503: "unavailable",
}


def install_error_handlers(app: Sanic, gate) -> None:
    """``gate(request)`` runs the Host/Origin and auth checks; errors raised before
    our middleware ran (routing: 404/405) still pass through it, so an unknown path
    without a token is a 401, never a 404 that reveals what exists."""

    @app.exception(Exception)
    async def handle(request: Request, exc: Exception) -> HTTPResponse:
        if not getattr(request.ctx, "gate_done", False) and not isinstance(exc, ApiError) \
                and (isinstance(exc, (NotFound, MethodNotAllowed)) or request.headers):
            # (an error raised before the headers were parsed — e.g. 431 — comes with an
            # empty placeholder request: the gate has nothing to judge, keep Sanic's status)
            try:
                gate(request)
            except ApiError as gate_error:
                exc = gate_error
        if isinstance(exc, ApiError):
            return error_response(exc.status, exc.code, exc.detail, exc.headers, **exc.extra)
        if isinstance(exc, SanicException):
            status = exc.status_code
            code = _SANIC_CODES.get(status, "error" if status >= 500 else "bad_request")
            detail = str(exc) if status < 500 else "internal error"
            if status == 413:
                detail = f"request body larger than {request.app.config.REQUEST_MAX_SIZE} bytes"
            headers = {}
            if status == 405:
                allowed = getattr(exc, "allowed_methods", None)
                if allowed:
                    headers["Allow"] = ", ".join(sorted(allowed))
            return error_response(status, code, detail, headers)
        log.error("unhandled error path=%s error=%s", request.path, type(exc).__name__, exc_info=exc)
        return error_response(500, "internal", "internal error")
