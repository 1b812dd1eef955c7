"""A local SMS gateway that speaks HTTP as the state's DLT gateways do, for the production-shaped stack and the
fault suite (the dev inbox, which never refuses, never slows and never goes down, stays for `make run`).

`POST /sms` with `Authorization: Bearer <token>` and JSON `{to, template_id, text}`, the sender's key in
`Idempotency-Key`: 202 accepted (a repeated key is answered as the first time and not sent again), 400 refused
with `{code, reason}` (a number on the DND registry or unallocated, a template not registered), 401 for a wrong
token, 503 while down. Every accepted message is kept in order in a JSON-lines file that outlives a kill (the
phone's view and the fault suite's record of what reached the gateway: `GET /messages`). An operator (or the
fault suite) tells it to refuse numbers or templates, to answer slowly, or to be down: `POST /control`.

Run: `uvicorn deploy.local.sms_gateway:app` with SEVA_SMS_GATEWAY_TOKEN and SEVA_SMS_GATEWAY_LOG set."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field


class Control(BaseModel):
    """What the gateway is told to do; each field replaces the one before."""

    refuse_numbers: dict[str, str] = Field(default_factory=dict, description="number -> the gateway's reason")
    refuse_templates: dict[str, str] = Field(default_factory=dict, description="template id -> reason")
    latency_seconds: float = 0.0
    down: bool = False
    honour_keys: bool = True  # False only to plant a double in the fault suite's own tests


class Message(BaseModel):
    to: str
    template_id: str
    text: str


class Gateway:
    def __init__(self, log_path: Path, token: str):
        self.log_path, self.token = log_path, token
        self.control = Control()
        self.messages: list[dict[str, Any]] = []
        self.by_key: dict[str, dict[str, Any]] = {}
        self.by_to: dict[str, list[dict[str, Any]]] = {}  # a phone reads its own messages without a scan of all
        self.counts = {"accepted": 0, "repeated": 0, "refused": 0, "down": 0}
        if log_path.exists():  # after a kill: what was accepted before stays accepted
            for line in log_path.read_text().splitlines():
                if line.strip():
                    self._remember(json.loads(line))
        control_file = self._control_file()
        if control_file.exists():
            self.control = Control.model_validate_json(control_file.read_text())

    def _control_file(self) -> Path:
        return self.log_path.with_suffix(".control.json")

    def _remember(self, record: dict[str, Any]) -> None:
        self.messages.append(record)
        self.by_to.setdefault(record["to"], []).append(record)
        if record.get("key"):
            self.by_key.setdefault(record["key"], record)

    def set_control(self, control: Control) -> None:
        self.control = control
        self._control_file().write_text(control.model_dump_json())

    def accept(self, message: Message, key: str | None) -> dict[str, Any]:
        record = {
            "seq": len(self.messages) + 1,
            "message_id": f"M{len(self.messages) + 1:08d}",
            "at": datetime.now(UTC).isoformat(),
            "to": message.to,
            "template_id": message.template_id,
            "text": message.text,
            "key": key,
        }
        with self.log_path.open("a") as f:  # written before the 202: an accepted message survives a kill
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._remember(record)
        return record


app = FastAPI(title="Local SMS gateway (Seva Suraksha's stack)")


def _gateway(request: Request) -> Gateway:
    gateway: Gateway | None = getattr(request.app.state, "gateway", None)
    if gateway is None:
        log_path = Path(os.environ["SEVA_SMS_GATEWAY_LOG"])  # fail closed: no log, no gateway
        log_path.parent.mkdir(parents=True, exist_ok=True)
        gateway = Gateway(log_path, os.environ["SEVA_SMS_GATEWAY_TOKEN"])
        request.app.state.gateway = gateway
    return gateway


@app.post("/sms")
async def send(
    message: Message,
    request: Request,
    authorization: str = Header(""),
    idempotency_key: str | None = Header(None),
) -> JSONResponse:
    gateway = _gateway(request)
    c = gateway.control
    if c.latency_seconds:
        await asyncio.sleep(c.latency_seconds)
    if c.down:
        gateway.counts["down"] += 1
        return JSONResponse({"code": "unavailable", "reason": "the gateway is down"}, 503, {"Retry-After": "5"})
    if authorization != f"Bearer {gateway.token}":
        return JSONResponse({"code": "unauthorised", "reason": "wrong or missing token"}, 401)
    if idempotency_key and c.honour_keys and (first := gateway.by_key.get(idempotency_key)):
        gateway.counts["repeated"] += 1
        return JSONResponse({"message_id": first["message_id"], "repeated": True}, 202)
    for refused, reasons, code in (
        (message.to, c.refuse_numbers, "number_refused"),
        (message.template_id, c.refuse_templates, "template_not_registered"),
    ):
        if refused in reasons:
            gateway.counts["refused"] += 1
            return JSONResponse({"code": code, "reason": reasons[refused]}, 400)
    record = gateway.accept(message, idempotency_key)
    gateway.counts["accepted"] += 1
    return JSONResponse({"message_id": record["message_id"]}, 202)


@app.get("/messages")
async def messages(request: Request, to: str | None = None, after: int = 0) -> list[dict[str, Any]]:
    """Accepted messages in the order accepted (`after` a sequence number; `to` one number)."""
    gateway = _gateway(request)
    if to is None:  # message n has seq n: the tail, not a scan of the whole season's log
        return gateway.messages[max(after, 0) :]
    return [m for m in gateway.by_to.get(to, []) if m["seq"] > after]


@app.get("/control")
async def get_control(request: Request) -> dict[str, Any]:
    gateway = _gateway(request)
    return {**gateway.control.model_dump(), "counts": gateway.counts}


@app.post("/control")
async def set_control(control: Control, request: Request) -> dict[str, Any]:
    _gateway(request).set_control(control)
    return control.model_dump()


@app.get("/healthz")
async def healthz(request: Request) -> dict[str, Any]:
    _gateway(request)
    return {"status": "ok", "time": time.time()}
