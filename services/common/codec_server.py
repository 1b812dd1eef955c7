"""The codec server: Temporal's documented remote-codec endpoint, so that operations staff read cases in
the Temporal UI although every payload is sealed (codec.py). The UI posts {"payloads": [...]} to
/codec/decode with the signed-in user's token; only the ops role may call it, and every call is logged
with who asked (never what was decoded)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from .auth import OPS, Principal, require_roles
from .codec import payloads_from_json, payloads_to_json
from .errors import ApiError
from .runtime import ServiceContext, context

log = logging.getLogger("seva.codec")

router = APIRouter(prefix="/codec", tags=["ops: Temporal codec server"])


class WirePayload(BaseModel):
    metadata: dict[str, str] = Field(default_factory=dict)
    data: str = ""


class Payloads(BaseModel):
    # an empty list may be left out: proto3 JSON omits it, and the Temporal CLI sends `{}` for a query with no
    # arguments (it was refused 422, and `temporal workflow query --codec-endpoint` failed)
    payloads: list[WirePayload] = Field(default_factory=list, max_length=1000)


def _codec(ctx: ServiceContext[Any]) -> PayloadCodec:
    """The codec the process's Temporal client seals with (services/common/temporal.py connect): the same keys."""
    codec = ctx.temporal.data_converter.payload_codec
    assert codec is not None, "every process connects to Temporal through the payload codec"
    return codec


def _wire(body: Payloads) -> list[Payload]:
    """The payloads as sent; metadata and data must be base64 (the remote codec protocol)."""
    try:
        return payloads_from_json(p.model_dump() for p in body.payloads)
    except ValueError as exc:  # binascii.Error, or text that is not ASCII at all
        raise ApiError(422, "payload_not_base64", "Each payload's metadata values and data must be base64.") from exc


@router.post("/decode", response_model=Payloads)
async def decode(
    body: Payloads,
    request: Request,
    ctx: ServiceContext[Any] = Depends(context),
    ops: Principal = Depends(require_roles(OPS)),
) -> dict[str, Any]:
    """Open sealed payloads for the Temporal UI (ops only)."""
    payloads = _wire(body)
    try:
        opened = await _codec(ctx).decode(payloads)
    except (ValueError, TypeError) as exc:
        raise ApiError(422, "payload_not_decodable", f"A payload could not be opened: {exc}") from exc
    except Exception as exc:  # cryptography's InvalidTag: not sealed by any key we hold
        raise ApiError(422, "payload_not_decodable", f"A payload could not be opened ({type(exc).__name__}).") from exc
    log.info(
        "codec: %s (%s) opened %d payloads for namespace %s",
        ops.subject,
        ops.role,
        len(body.payloads),
        request.headers.get("x-namespace", "-"),
    )
    return {"payloads": payloads_to_json(opened)}


@router.post("/encode", response_model=Payloads)
async def encode(
    body: Payloads, ctx: ServiceContext[Any] = Depends(context), _: Principal = Depends(require_roles(OPS))
) -> dict[str, Any]:
    """Seal payloads the UI sends (a signal or query argument typed in by ops)."""
    return {"payloads": payloads_to_json(await _codec(ctx).encode(_wire(body)))}
