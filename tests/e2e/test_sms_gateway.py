"""The SMS adapter (services/otp/consumers.sms_consumer) against the local HTTP gateway process
(deploy/local/sms_gateway.py), on the real Kafka and PostgreSQL, the consumer loop the real one, on a topic of
its own: the path where the state's real portal failed ten thousand employees.

Found by trying it as an operator would: one number refused by the gateway (a number on DND) stopped every OTP
behind it, for good; an OTP that a newer request had replaced was still sent after a backlog."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from deploy.local.stack import ROOT
from services.common.dead_letters import DeadLetterEntry, replay
from services.common.events import envelope
from services.common.kafka import EventConsumer, ensure_topics, start_producer
from services.common.runtime import ServiceContext
from services.common.settings import OtpSettings
from services.otp.consumers import sms_consumer

from .conftest import eventually

pytestmark = pytest.mark.stack
TOKEN = "test-gateway-token"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = tmp_path_factory.mktemp("sms-gateway") / "accepted.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "deploy.local.sms_gateway:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={**os.environ, "SEVA_SMS_GATEWAY_TOKEN": TOKEN, "SEVA_SMS_GATEWAY_LOG": str(log_path)},
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


async def _adapter(stack, db, gateway: str, group: str):
    """The adapter as the OTP service runs it, posting to the gateway process, reading a topic of its own."""
    settings = OtpSettings(
        env="dev",
        database_url=stack.database_url,
        sms_gateway="services.otp.sms:HttpSmsGateway",
        sms_gateway_url=f"{gateway}/sms",
        sms_gateway_token=TOKEN,
    )
    ctx = ServiceContext("otp", settings, db, None)  # type: ignore[arg-type]  # the adapter never asks Temporal
    [_], handler = sms_consumer(ctx)
    topic = f"t-sms-{uuid.uuid4().hex[:8]}"
    await ensure_topics(stack.kafka_bootstrap, [topic, f"dlq.{group}"], partitions=1)
    producer = await start_producer(stack.kafka_bootstrap)
    consumer = EventConsumer(stack.kafka_bootstrap, [topic], group, handler, producer, retry_ceiling=0.5)
    await consumer.start()
    return topic, producer, consumer


def _sms(mobile: str, template: str = "registration_open", **data) -> dict[str, Any]:
    return envelope(
        "sms.requested",
        "otp",
        f"EMP-SMS-{uuid.uuid4().hex[:6]}",
        {"template": template, "params": {}, "mobile": mobile, **data},
    )


async def _accepted(http, gateway: str, to: str | None = None) -> list[dict[str, Any]]:
    return (await http.get(f"{gateway}/messages", params={"to": to} if to else {})).json()


async def test_one_refused_number_is_parked_with_the_gateways_reason_and_every_other_sms_goes_out(
    stack, db, http, gateway
):
    group = f"t.sms-{uuid.uuid4().hex[:6]}"
    refused_number = "9000000001"
    await http.post(f"{gateway}/control", json={"refuse_numbers": {refused_number: "number is on the DND registry"}})
    topic, producer, consumer = await _adapter(stack, db, gateway, group)
    others = [f"90000{n:05d}" for n in range(100, 130)]
    refused = _sms(refused_number)
    try:
        await producer.send_and_wait(topic, refused, key=refused["employee_id"])
        events = [_sms(m) for m in others]
        for e in events:
            await producer.send_and_wait(topic, e, key=e["employee_id"])

        async def all_others_out():
            got = {m["to"] for m in await _accepted(http, gateway)}
            return set(others) <= got

        await eventually(all_others_out, what="the 30 other messages at the gateway", timeout=60)
        accepted = {m["key"]: m for m in await _accepted(http, gateway)}
        assert all(accepted[e["event_id"]]["to"] == e["data"]["mobile"] for e in events)  # keyed by the event id
        assert not await _accepted(http, gateway, refused_number)

        [letter] = await eventually(lambda: _parked(stack, group), what="the refused message parked")
        assert letter.reason == "sms_refused" and "number is on the DND registry" in letter.record["error"]
        row = await db.fetchrow(
            "SELECT outcome, refusal FROM otp.sms_delivery WHERE event_id = $1", uuid.UUID(refused["event_id"])
        )
        assert row["outcome"] == "refused" and "DND" in row["refusal"]
        assert consumer.health.problem() is None

        # Mended (the number taken off the refusal list): the replay sends it, once; a second replay sends nothing.
        await http.post(f"{gateway}/control", json={})
        await replay(stack.kafka_bootstrap, [letter])
        await eventually(lambda: _accepted(http, gateway, refused_number), what="the replayed message sent")
        await replay(stack.kafka_bootstrap, [letter])
        await asyncio.sleep(2)
        assert len(await _accepted(http, gateway, refused_number)) == 1
        assert (
            await db.fetchval(
                "SELECT outcome FROM otp.sms_delivery WHERE event_id = $1", uuid.UUID(refused["event_id"])
            )
            == "delivered"
        )
    finally:
        await consumer.stop()
        await producer.stop()


async def test_an_otp_whose_challenge_was_replaced_is_not_sent_after_a_backlog(stack, db, http, gateway):
    group = f"t.sms-{uuid.uuid4().hex[:6]}"
    mobile = "9000000777"
    expires = datetime.now(UTC) + timedelta(minutes=10)
    old, new = uuid.uuid4(), uuid.uuid4()
    for challenge, status in ((old, "replaced"), (new, "active")):
        await db.execute(
            "INSERT INTO otp.otp_challenge (challenge_id, mobile, employee_id, created_at, expires_at, status) "
            "VALUES ($1, $2, NULL, now(), $3, $4)",
            challenge,
            mobile,
            expires,
            status,
        )
    topic, producer, consumer = await _adapter(stack, db, gateway, group)
    try:
        for challenge in (old, new):
            e = _sms(mobile, "otp", challenge_id=str(challenge), expires_at=expires.isoformat())
            e["data"]["params"] = {"minutes": 10}
            await producer.send_and_wait(topic, e, key=mobile)
        sent = await eventually(lambda: _accepted(http, gateway, mobile), what="the newer OTP sent")
        await asyncio.sleep(1)
        sent = await _accepted(http, gateway, mobile)
        assert len(sent) == 1 and "******" not in sent[0]["text"]
        outcomes = {
            r["reference"]: r["outcome"]
            for r in await db.fetch("SELECT reference, outcome FROM otp.sms_delivery WHERE mobile = $1", mobile)
        }
        assert outcomes == {str(old): "dropped_superseded", str(new): "delivered"}
    finally:
        await consumer.stop()
        await producer.stop()


async def test_a_gateway_that_is_down_is_waited_out_and_nothing_is_parked(stack, db, http, gateway):
    group = f"t.sms-{uuid.uuid4().hex[:6]}"
    await http.post(f"{gateway}/control", json={"down": True})
    topic, producer, consumer = await _adapter(stack, db, gateway, group)
    e = _sms("9000000888")
    try:
        await producer.send_and_wait(topic, e, key=e["employee_id"])
        await eventually(lambda: _async(consumer.health.failures >= 3), what="the gateway tried while down")
        await http.post(f"{gateway}/control", json={})
        await eventually(lambda: _accepted(http, gateway, "9000000888"), what="sent once the gateway is back")
        assert await _parked(stack, group) == []
    finally:
        await consumer.stop()
        await producer.stop()


async def _parked(stack, group: str) -> list[DeadLetterEntry]:
    """The dead letters of this test's own consumer (its dead-letter topic is not one of the service's)."""
    reader = AIOKafkaConsumer(
        f"dlq.{group}",
        bootstrap_servers=stack.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        enable_auto_commit=False,
    )
    await reader.start()
    try:
        batch = await reader.getmany(timeout_ms=1500)
        return [
            DeadLetterEntry(f"{r.topic}:{r.partition}:{r.offset}", json.loads(r.value))
            for records in batch.values()
            for r in records
        ]
    finally:
        await reader.stop()


async def _async(value):
    await asyncio.sleep(0)
    return value


async def test_why_no_otp_tells_the_employee_the_gateway_refused_their_last_otp(stack, db, http, gateway, master):
    """The state's portal left ten thousand people with no OTP and no reason: a refusal is a reason to say."""
    employee = [e for e in master.employees if e.fault is None][43]
    m = employee.master
    group = f"t.sms-{uuid.uuid4().hex[:6]}"
    await http.post(f"{gateway}/control", json={"refuse_numbers": {m["mobile"]: "number is on the DND registry"}})
    challenge = uuid.uuid4()
    expires = datetime.now(UTC) + timedelta(minutes=10)
    await db.execute(
        "INSERT INTO otp.otp_challenge (challenge_id, mobile, employee_id, created_at, expires_at) "
        "VALUES ($1, $2, $3, now(), $4)",
        challenge,
        m["mobile"],
        m["employee_id"],
        expires,
    )
    topic, producer, consumer = await _adapter(stack, db, gateway, group)
    try:
        e = envelope(
            "sms.requested",
            "otp",
            m["employee_id"],
            {
                "template": "otp",
                "params": {"minutes": 10},
                "mobile": m["mobile"],
                "challenge_id": str(challenge),
                "expires_at": expires.isoformat(),
            },
        )
        await producer.send_and_wait(topic, e, key=m["employee_id"])
        await eventually(lambda: _parked(stack, group), what="the refused OTP parked")
    finally:
        await consumer.stop()
        await producer.stop()
        await http.post(f"{gateway}/control", json={})
    r = await http.post(
        f"{stack.url('otp')}/otp/why-no-otp",
        json={"family_id": m["family_id"], "date_of_birth": str(employee.ppp["date_of_birth"]), "mobile": m["mobile"]},
    )
    assert r.status_code == 200, r.text
    [cause] = r.json()["causes"]
    assert cause["code"] == "sms_refused_by_gateway" and "DND" in cause["message"]
    assert m["mobile"] not in cause["message"]
