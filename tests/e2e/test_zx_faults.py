"""Faults on the real stack, while employees and officers act (runs late: it kills and freezes processes,
and leaves poison on the topics). The full fault suite with every row is `make faults`."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from contract import (
    CASES_TASK_QUEUE,
    MASTERDATA_TOPIC,
    SMS_TOPIC,
    TOPICS,
    CaseInput,
    EventType,
    Stage,
    case_workflow_id,
)
from deploy.local.journey import application_form
from services.common.events import envelope
from workflows.case import CaseWorkflow

from .conftest import SEASON, eventually, prepare_application
from .helpers import case_stage, employee_session, officer_headers, stage_is


def _fresh(master, index: int):
    """Employees no other test touches (the others take the first 19 without a fault)."""
    return [e for e in master.employees if e.fault is None][30 + index]


async def _ready(http, url: str, ops: dict[str, Any]) -> dict[str, Any] | None:
    """The readiness detail, which only ops may read (the probe itself says ready or not, nothing more)."""
    r = await http.get(url, headers=ops)
    return r.json() if r.status_code == 200 else None


async def test_poison_on_every_topic_is_dead_lettered_and_cases_keep_moving(stack, master, temporal, http, db):
    employee = _fresh(master, 0)
    m = employee.master
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    await producer.start()
    try:
        for topic in [*TOPICS.values(), SMS_TOPIC, MASTERDATA_TOPIC]:
            for value in (
                b"not json at all",
                b"[1, 2]",
                json.dumps({"what": "no envelope"}).encode(),
                json.dumps(envelope("never.heard.of", "x", m["employee_id"], {})).encode(),
            ):
                await producer.send_and_wait(topic, value, key=m["employee_id"].encode())
    finally:
        await producer.stop()

    # After the poison, in the same partitions: the employee registers and applies, a data owner corrects.
    auth = await employee_session(stack, http, employee)
    await eventually(lambda: stage_is(temporal, m["employee_id"], Stage.AWAITING_APPLICATION), what="registered")
    await prepare_application(stack, http, auth, m["employee_id"])
    r = await http.post(f"{stack.url('applications')}/applications", json=application_form(m), headers=auth)
    assert r.status_code == 201, r.text
    await eventually(lambda: stage_is(temporal, m["employee_id"], Stage.AWAITING_DDO_VERIFICATION), what="submitted")

    # Every process is ready and counts what it dead-lettered, by reason.
    ops = await officer_headers(stack, http, "OPS-1")
    urls = [f"{stack.url(s)}/ops/readiness" for s in ("otp", "applications", "verification")]
    urls.append(f"http://127.0.0.1:{stack.ports.cases_health}/ops/readiness")
    for url in urls:
        report = await eventually(lambda: _ready(http, url, ops), what=f"{url} ready")
        assert report is not None and report["ready"] and all(c["state"] != "stopped" for c in report["components"])
    cases = await _ready(http, urls[-1], ops)
    assert cases is not None and cases["dead_letters"]["not_json"] >= 4 and cases["dead_letters"]["not_an_object"] >= 4
    otp = await _ready(http, urls[0], ops)
    assert otp is not None and otp["dead_letters"]["invalid_envelope"] >= 2  # sms.outbound and masterdata.corrections


async def test_a_killed_cases_worker_is_back_in_seconds_and_its_cases_answer_and_move(stack, master, temporal, http):
    """kill -9 leaves the server believing the worker alive: the cases it had cached must not wait for minutes."""
    employee = _fresh(master, 1)
    m = employee.master
    auth = await employee_session(stack, http, employee)
    await eventually(lambda: stage_is(temporal, m["employee_id"], Stage.AWAITING_APPLICATION), what="registered")
    await prepare_application(stack, http, auth, m["employee_id"])

    stack.kill("cases-worker")
    stack.restart("cases-worker")
    killed_at = time.monotonic()
    r = await http.post(f"{stack.url('applications')}/applications", json=application_form(m), headers=auth)
    assert r.status_code == 201, r.text

    async def moved():
        try:
            return await asyncio.wait_for(stage_is(temporal, m["employee_id"], Stage.AWAITING_DDO_VERIFICATION), 5)
        except Exception:
            return False

    await eventually(moved, timeout=90, what="the case moved on after the crash")
    recovered_in = time.monotonic() - killed_at
    print(f"case moved on {recovered_in:.1f}s after the cases worker was killed")
    assert (await case_stage(temporal, m["employee_id"])).application_no == r.json()["application_no"]


async def test_a_frozen_database_gives_a_clear_503_in_bounded_time_and_everything_recovers(stack, master, http):
    calendar = f"{stack.url('applications')}/calendar"
    assert (await http.get(calendar)).status_code == 200
    ops = await officer_headers(stack, http, "OPS-1")
    stack.pause("postgres")
    try:
        answers = []
        for url in (calendar, f"{stack.url('otp')}/ops/readiness", f"{stack.url('applications')}/readyz"):
            started = time.monotonic()
            try:
                r = await http.get(url, timeout=30, headers=ops if "/ops/" in url else None)
            except httpx.TimeoutException:
                r = None
            answers.append((url, r, time.monotonic() - started))
    finally:
        stack.resume("postgres")
    (_, r, took), (_, otp_ready, _), _ = answers
    assert r is not None, f"GET /calendar hung for {took:.0f}s with the database frozen"
    assert r.status_code == 503 and r.json()["code"] == "temporarily_unavailable", r.text
    assert int(r.headers["retry-after"]) > 0
    print(f"GET /calendar answered 503 after {took:.1f}s with the database frozen")
    assert otp_ready is not None and otp_ready.status_code == 503 and otp_ready.json()["database"] != "ok"

    async def recovered():
        r = await http.get(calendar)
        return r.status_code == 200

    await eventually(recovered, timeout=60, what="the calendar answers again")


async def _seva(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ops.cli", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()
    return out.decode()


async def test_a_dead_letter_is_listed_shown_and_replayed_once_its_cause_is_mended(stack, temporal):
    """An event for a case that does not exist yet is refused (dead-lettered, not dropped); once the case is
    open, `seva dlq replay` delivers it, and a second replay changes nothing."""
    employee_id = f"EMP-LATE-{uuid.uuid4().hex[:6]}"
    event = envelope(EventType.OTP_VERIFIED, "otp", employee_id, {"challenge_id": str(uuid.uuid4())})
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(TOPICS["otp"], json.dumps(event).encode(), key=employee_id.encode())
    finally:
        await producer.stop()

    async def dead_lettered():
        listed = await _seva("dlq", "list", "--consumer", "cases.signaller", "--kafka", stack.kafka_bootstrap)
        return next(
            (
                line.split()[0]
                for line in listed.splitlines()
                if event["type"] in line and "no_case" in line and employee_id in line
            ),
            None,
        )

    ref = await eventually(dead_lettered, what="the refused event in the dead letters")
    shown = json.loads(await _seva("dlq", "show", ref, "--kafka", stack.kafka_bootstrap))
    assert shown["event_id"] == event["event_id"] and json.loads(shown["value"]) == event

    handle = await temporal.start_workflow(
        CaseWorkflow.run,
        CaseInput(
            employee_id=employee_id,
            season_id=SEASON,
            employee_group="part1",
            department="HEALTH",
            district="Hisar",
            ddo_code="DDO-HEALTH-HISAR",
        ),
        id=case_workflow_id(employee_id, SEASON),
        task_queue=CASES_TASK_QUEUE,
    )
    try:
        for _ in range(2):
            assert "replayed to otp.events" in await _seva("dlq", "replay", ref, "--kafka", stack.kafka_bootstrap)
        await eventually(lambda: stage_is(temporal, employee_id, Stage.AWAITING_APPLICATION), what="replayed")
        status = await case_stage(temporal, employee_id)
        assert [h.note for h in status.history].count("registered with mobile OTP") == 1
    finally:
        await handle.terminate("test done")


async def test_after_postgresql_is_killed_and_restarted_every_relay_and_consumer_carries_on(
    stack, master, temporal, http
):
    """Connections held across a database restart are dead: the relays and consumers must take new ones."""
    stack.kill("postgres")
    stack.restart("postgres")

    async def all_ready():
        answers = [await http.get(f"{stack.url(s)}/readyz") for s in ("otp", "applications", "verification", "orders")]
        return all(a.status_code == 200 for a in answers)

    await eventually(all_ready, timeout=120, what="every service ready after the database came back")
    employee = _fresh(master, 2)  # the OTP SMS goes out through the OTP service's relay and its consumer
    await employee_session(stack, http, employee)
    await eventually(
        lambda: stage_is(temporal, employee.master["employee_id"], Stage.AWAITING_APPLICATION),
        what="registered after the restart",
    )
