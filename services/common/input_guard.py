"""One guard at the door for characters no route can use: a NUL (PostgreSQL text cannot hold it) or a lone
UTF-16 surrogate (it cannot be encoded as UTF-8), in the path, the query or a JSON body. Left to reach the
routes they became HTTP 500s on many of them; here they become one 400 with a stable code, before any
route runs. Pure ASGI, so the body it reads is handed on unchanged."""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("seva.input")

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Only a body with one of these escapes can decode to a NUL or a surrogate; only such a body is parsed here.
_SUSPECT_ESCAPE = re.compile(rb"\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
MAX_INSPECTED_BODY = 1024 * 1024


def _bad_text(text: str) -> bool:
    return "\x00" in text or bool(_LONE_SURROGATE.search(text))


def _bad_bytes(raw: bytes) -> bool:
    if b"\x00" in raw:
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True  # an encoded surrogate (ED A0 80 ...) is not UTF-8 either
    return False


def _bad_json(value: Any) -> bool:
    if isinstance(value, str):
        return _bad_text(value)
    if isinstance(value, dict):
        return any(_bad_text(k) or _bad_json(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_bad_json(v) for v in value)
    return False


def _refusal() -> JSONResponse:
    return JSONResponse(
        {
            "code": "invalid_characters",
            "message": "The request holds a character that cannot be used (a NUL or a broken Unicode "
            "character); remove it and send the request again.",
        },
        status_code=400,
    )


class InputGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
        if (
            _bad_bytes(unquote_to_bytes(raw_path))
            or _bad_text(scope["path"])
            or _bad_bytes(unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" ")))
        ):
            log.warning(
                "refused %s %s: NUL or broken Unicode in the path or query", scope["method"], scope["path"][:80]
            )
            return await _refusal()(scope, receive, send)
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
        if b"json" not in content_type:
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message]), send)
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if len(body) <= MAX_INSPECTED_BODY and _SUSPECT_ESCAPE.search(body):
            try:
                bad = _bad_json(json.loads(body))
            except ValueError:
                bad = False  # not JSON at all: the route's own validation answers it
            if bad:
                log.warning(
                    "refused %s %s: NUL or broken Unicode in the JSON body", scope["method"], scope["path"][:80]
                )
                return await _refusal()(scope, receive, send)
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
