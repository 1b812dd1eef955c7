"""One employee's case end to end through the real parts: mobile OTP (SMS through Kafka), application,
DDO verification, Finance's supernumerary post, HoD approval and the service-security order."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from contract import CaseStatus, Stage, case_workflow_id
from deploy.local.journey import application_form
from services.common.events import ALL_TOPICS
from workflows.case import CaseWorkflow

from .conftest import SEASON, eventually, prepare_application
from .helpers import case_stage, officer_headers, read_otp, stage_is

pytestmark = pytest.mark.stack


async def test_happy_path_from_otp_to_service_security_order(stack, master, temporal, http, db):
    employee = next(e for e in master.employees if e.fault is None)
    m = employee.master
    eid = m["employee_id"]
    assert (await case_stage(temporal, eid)).stage == Stage.AWAITING_REGISTRATION

    # Registration: OTP to the mobile on record, delivered through Kafka to the dev SMS sink.
    r = await http.post(f"{stack.url('otp')}/otp/request", json={"mobile": f"+91 {employee.actual_mobile}"})
    assert r.status_code == 202, r.text
    code = await read_otp(stack, http, employee.actual_mobile)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = await http.post(f"{stack.url('otp')}/otp/verify", json={"mobile": employee.actual_mobile, "code": wrong})
    assert r.status_code == 400 and r.json()["code"] == "otp_invalid"
    r = await http.post(f"{stack.url('otp')}/otp/verify", json={"mobile": employee.actual_mobile, "code": code})
    assert r.status_code == 200, r.text
    assert r.json()["employee_id"] == eid
    employee_auth = {"Authorization": f"Bearer {r.json()['token']}"}
    await eventually(lambda: stage_is(temporal, eid, Stage.AWAITING_APPLICATION), what="registered")

    # The application.
    await prepare_application(stack, http, employee_auth, m["employee_id"])
    form = application_form(m)
    r = await http.post(f"{stack.url('applications')}/applications", json=form, headers=employee_auth)
    assert r.status_code == 201, r.text
    application_no = r.json()["application_no"]
    mine = (await http.get(f"{stack.url('applications')}/applications/mine", headers=employee_auth)).json()
    assert mine["ddo"]["ddo_code"] == m["ddo_code"] and mine["ddo"]["office_name_hi"] and mine["ddo"]["phone"]
    r = await http.post(f"{stack.url('applications')}/applications", json=form, headers=employee_auth)
    assert r.status_code == 409 and r.json()["code"] == "application_exists"
    await eventually(lambda: stage_is(temporal, eid, Stage.AWAITING_DDO_VERIFICATION), what="submitted")

    # The DDO verifies through the verification service.
    ddo = await officer_headers(stack, http, f"OFF-{m['ddo_code']}")

    async def in_queue():
        r = await http.get(f"{stack.url('verification')}/verification/queue", headers=ddo)
        return any(item["application_no"] == application_no for item in r.json())

    await eventually(in_queue, what="application in the DDO's queue")
    # a page of the queue, and how many there are in all (the portal pages by it)
    one = await http.get(f"{stack.url('verification')}/verification/queue", params={"limit": 1}, headers=ddo)
    everything = await http.get(f"{stack.url('verification')}/verification/queue", params={"limit": 500}, headers=ddo)
    assert len(one.json()) == 1 and int(one.headers["x-total-count"]) == len(everything.json())
    decision_url = f"{stack.url('verification')}/verification/applications/{application_no}/decision"
    r = await http.post(decision_url, json={"decision": "verified"}, headers=ddo)
    assert r.status_code == 200, r.text
    r = await http.post(decision_url, json={"decision": "verified"}, headers=ddo)  # a retry is harmless
    assert r.status_code == 200
    await eventually(lambda: stage_is(temporal, eid, Stage.AWAITING_POST_CREATION), what="verified")

    # Finance creates the supernumerary post; the HoD approves.
    finance = await officer_headers(stack, http, "FIN-1")

    async def post_created():
        r = await http.post(f"{stack.url('orders')}/posts", json={"application_nos": [application_no]}, headers=finance)
        return r.status_code == 200 and r.json()

    batch = await eventually(post_created, what="post created")
    post_id = batch["posts"][0]["post_id"]
    again = await http.post(f"{stack.url('orders')}/posts", json={"application_nos": [application_no]}, headers=finance)
    assert again.json()["posts"][0]["post_id"] == post_id  # never two posts for one case
    await eventually(lambda: stage_is(temporal, eid, Stage.AWAITING_HOD_APPROVAL), what="post recorded on the case")
    hod = await officer_headers(stack, http, f"HOD-{m['department_code']}")
    r = await http.post(f"{stack.url('orders')}/orders/{application_no}/approve", headers=hod)
    assert r.status_code == 200, r.text
    again = await http.post(f"{stack.url('orders')}/orders/{application_no}/approve", headers=hod)
    assert again.status_code == 200 and again.json()["approved_at"] == r.json()["approved_at"]  # approved once

    # The order is issued and the case ends.
    result: CaseStatus = await temporal.get_workflow_handle_for(
        CaseWorkflow.run, case_workflow_id(eid, SEASON)
    ).result()
    assert result.stage == Stage.ORDER_ISSUED
    assert re.fullmatch(rf"SSO/\d{{4}}/{m['department_code']}/\d{{6}}", result.order_no or "")
    assert result.post_id == post_id and result.application_no == application_no
    r = await http.get(f"{stack.url('orders')}/orders/{result.order_no}/verify")
    assert r.status_code == 200 and r.json()["genuine"] is True
    r = await http.get(f"{stack.url('applications')}/applications/{application_no}", headers=employee_auth)
    assert r.status_code == 200 and r.json()["stage"] == Stage.ORDER_ISSUED and r.json()["order_no"] == result.order_no

    assert (
        await db.fetchval(
            "SELECT count(*) FROM orders.service_security_order WHERE application_no = $1", application_no
        )
        == 1
    )
    assert (
        await db.fetchval("SELECT count(*) FROM orders.outbox WHERE event_type = 'order.issued' AND key = $1", eid) == 1
    )

    # Every step crossed Kafka, and the employee got the order SMS.
    types = await _event_types_for(stack, eid, until="order.issued")
    for t in (
        "otp.verified",
        "application.submitted",
        "verification.decided",
        "post.created",
        "order.approved",
        "order.issued",
        "sms.requested",
    ):
        assert t in types, f"{t} did not cross Kafka: {types}"

    async def order_sms():
        r = await http.get(f"{stack.url('otp')}/dev/sms", params={"mobile": employee.actual_mobile})
        return [x for x in r.json() if x["template"] == "order_issued" and result.order_no in x["body"]]

    [sms] = await eventually(order_sms, what="order SMS")
    assert sms["language"] == "hi" and "सेवा सुरक्षा आदेश" in sms["body"]  # Hindi unless the employee chose English


async def _event_types_for(stack, employee_id: str, until: str) -> list[str]:
    consumer = AIOKafkaConsumer(
        *ALL_TOPICS,
        bootstrap_servers=stack.kafka_bootstrap,
        group_id=f"e2e-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: list[str] = []
    try:

        async def probe():
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for rec in records:
                    event = json.loads(rec.value)
                    if event.get("employee_id") == employee_id:
                        seen.append(event["type"])
            return until in seen and "sms.requested" in seen

        await eventually(probe, timeout=30, what="events on Kafka")
    finally:
        await consumer.stop()
    return seen
