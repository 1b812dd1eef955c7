"""Every error an API returns: an HTTP 4xx, a stable machine-readable code and one plain sentence."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("seva.errors")


class ApiError(Exception):
    """Raise from any route: becomes {"code": ..., "message": ...} with the given status."""

    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _body(code: str, message: str, **details) -> dict:
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return body


def _field_sentence(err: dict) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
    return f"{where or 'request'}: {err.get('msg', 'is not valid')}"


_HTTP_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def _log_denial(request: Request, status: int, code: str) -> None:
    """Every refusal is logged with who asked (never the request body: it may hold personal data)."""
    principal = getattr(request.state, "principal", None)
    who = f"{principal.subject} ({principal.role})" if principal else "anonymous"
    client = request.client.host if request.client else "unknown"
    log.warning("denied %s %s to %s from %s: %d %s", request.method, request.url.path, who, client, status, code)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        if exc.status in (401, 403, 404):
            _log_denial(request, exc.status, exc.code)
        return JSONResponse(_body(exc.code, exc.message, **exc.details), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        problems = [_field_sentence(e) for e in exc.errors()]
        message = "The request is not valid: " + "; ".join(problems) + "."
        return JSONResponse(_body("invalid_request", message, fields=problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "The request could not be served."
        if exc.status_code == 404 and message == "Not Found":
            message = "There is no such address on this service."
        return JSONResponse(_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None))
