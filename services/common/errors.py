"""Every error an API returns: an HTTP 4xx, a stable machine-readable code and one plain sentence."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import asyncpg
import httpx
from aiokafka.errors import KafkaError, KafkaTimeoutError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from .addresses import client_addr

log = logging.getLogger("seva.errors")


class ApiError(Exception):
    """Raise from any route: becomes {"code": ..., "message": ...} with the given status."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _body(code: str, message: str, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return body


def _field_sentence(err: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
    return f"{where or 'request'}: {err.get('msg', 'is not valid')}"


_HTTP_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def _log_denial(request: Request, status: int, code: str) -> None:
    """Every refusal is logged with who asked (never the request body: it may hold personal data)."""
    principal = getattr(request.state, "principal", None)
    who = f"{principal.subject} ({principal.role})" if principal else "anonymous"
    log.warning(
        "denied %s %s to %s from %s: %d %s", request.method, request.url.path, who, client_addr(request), status, code
    )


def log_denied_item(request: Request, err: ApiError, item: str) -> None:
    """One item of a bulk request refused as out of the caller's scope: logged like a refused request."""
    if err.status in (401, 403, 404):
        _log_denial(request, err.status, f"{err.code} ({item})")


# Exceptions that mean a part we depend on is down or slow (PostgreSQL, Temporal), not that the request is bad.
# asyncpg's InternalClientError ("cannot switch to state 15; another operation is in progress") is what a
# connection says when PostgreSQL died under a query on it (the fault suite's PostgreSQL kill row: four 500s).
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.QueryCanceledError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)
_TEMPORAL_OUTAGE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.CANCELLED,
}


class Transient(Exception):
    """Raised where a part answered that it is down or busy (a gateway's 5xx, say): known to pass, so waited
    out with backoff. Any failure not recognised by `is_transient` is treated as unforeseen."""


# The Temporal client's own words when the connection, not the server, failed: gRPC status UNKNOWN with the
# transport's message (seen with the server down 5 minutes: "transport error"; parked as unforeseen, 16 cases
# stalled until they were replayed).
_TRANSPORT_WORDS = re.compile(r"transport error|connection (refused|reset|closed)|broken pipe|h2 protocol error", re.I)


def is_transient(exc: BaseException) -> bool:
    """A failure known to pass on its own: a connection refused or reset, a timeout, PostgreSQL, Kafka or
    Temporal saying it is unavailable, a service's 503. Everything else (a bug, a refusal, an error nobody
    foresaw) is not, and retrying it for long only holds up what comes after it (services/common/kafka.py)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (Transient, *OUTAGE_ERRORS, httpx.TransportError)):
            return True
        if isinstance(exc, (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)):
            return True
        if isinstance(exc, KafkaTimeoutError) or (isinstance(exc, KafkaError) and getattr(exc, "retriable", False)):
            return True
        if isinstance(exc, RPCError) and (
            exc.status in _TEMPORAL_OUTAGE
            or (exc.status == RPCStatusCode.UNKNOWN and _TRANSPORT_WORDS.search(exc.message or ""))
        ):
            return True
        if isinstance(exc, ApiError) and exc.status == 503:
            return True
        exc = exc.__cause__  # type: ignore[assignment]  # a wrapper raised "from" an outage is the outage
    return False


def outage_response(request: Request, part: str, exc: BaseException) -> JSONResponse:
    """A part is down: 503 with a stable code, a plain sentence and Retry-After, never a 500 or a hang."""
    ctx = getattr(request.app.state, "ctx", None)
    retry_after = str(ctx.settings.retry_after_seconds if ctx else 15)
    log.warning("%s %s: %s unavailable: %r", request.method, request.url.path, part, exc)
    return JSONResponse(
        _body(
            "temporarily_unavailable",
            f"The service cannot reach its {part} just now, so nothing was done; please try again in a minute.",
        ),
        status_code=503,
        headers={"Retry-After": retry_after},
    )


def install_error_handlers(app: FastAPI) -> None:
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        return outage_response(request, "database", exc)

    for error in OUTAGE_ERRORS:
        app.add_exception_handler(error, _database_down)  # type: ignore[arg-type]  # OSError etc. are Exceptions

    @app.exception_handler(asyncpg.DataError)
    async def _bad_value(request: Request, exc: asyncpg.DataError) -> JSONResponse:
        """A value the database cannot take (an offset of 10**26, say, out of int64 range): the request is wrong,
        not the server. Caught here once rather than bounding every number on every route (found by the API
        fuzzer, which got 500s from four list routes)."""
        log.warning("%s %s: a value the database cannot take: %s", request.method, request.url.path, exc)
        return JSONResponse(
            _body("invalid_value", "A value in the request is out of range or malformed; check the numbers and dates."),
            status_code=422,
        )

    @app.exception_handler(asyncpg.UniqueViolationError)
    async def _twice(request: Request, exc: asyncpg.UniqueViolationError) -> JSONResponse:
        """Two requests doing the same thing at once (a client retrying a request that timed out): one wins,
        the other is told so, never a 500."""
        log.warning(
            "%s %s: already done by a concurrent request: %s", request.method, request.url.path, exc.constraint_name
        )
        return JSONResponse(
            _body(
                "already_done",
                "This was just done by another request, perhaps an earlier "
                "attempt of this one; look at the current state before trying again.",
            ),
            status_code=409,
        )

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, exc: RPCError) -> JSONResponse:
        if exc.status in _TEMPORAL_OUTAGE:
            return outage_response(request, "case engine (Temporal)", exc)
        log.error("%s %s: Temporal refused: %r", request.method, request.url.path, exc)
        return JSONResponse(_body("case_engine_error", "The case engine refused the request."), status_code=502)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        if exc.status in (401, 403, 404, 429):
            _log_denial(request, exc.status, exc.code)
        retry_after = exc.details.get("retry_after_seconds")
        return JSONResponse(
            _body(exc.code, exc.message, **exc.details),
            status_code=exc.status,
            headers={"Retry-After": str(retry_after)} if retry_after else None,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_field_sentence(e) for e in exc.errors()]
        message = "The request is not valid: " + "; ".join(problems) + "."
        return JSONResponse(_body("invalid_request", message, fields=problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "The request could not be served."
        if exc.status_code == 404 and message == "Not Found":
            message = "There is no such address on this service."
        return JSONResponse(_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None))
