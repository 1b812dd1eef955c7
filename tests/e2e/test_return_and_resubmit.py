"""The DDO returns an application with remarks; the employee sees them, corrects and resubmits; the DDO
verifies the new round. Submissions close with the registration deadline of the calendar in force."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from contract import Stage
from deploy.local.journey import application_form
from services.applications.calendar import calendar_in_force, store_version

from .conftest import SEASON, eventually, prepare_application
from .helpers import assert_error, employee_session, in_ddo_queue, officer_headers, stage_is

pytestmark = pytest.mark.stack


async def test_returned_for_correction_then_resubmitted_and_verified(stack, master, temporal, http):
    employee = [e for e in master.employees if e.fault is None][10]
    m = employee.master
    auth = await employee_session(stack, http, employee)
    r = await http.put(f"{stack.url('otp')}/master/me/sms-language", json={"language": "en"}, headers=auth)
    assert r.status_code == 200
    await prepare_application(stack, http, auth, m["employee_id"])
    apps = stack.url("applications")
    r = await http.post(f"{apps}/applications", json=application_form(m), headers=auth)
    assert r.status_code == 201, r.text
    application_no = r.json()["application_no"]
    assert_error(
        await http.put(f"{apps}/applications/{application_no}", json=application_form(m), headers=auth),
        409,
        "not_returned",
    )

    ddo = await officer_headers(stack, http, f"OFF-{m['ddo_code']}")
    decision = f"{stack.url('verification')}/verification/applications/{application_no}/decision"
    await eventually(lambda: stage_is(temporal, m["employee_id"], Stage.AWAITING_DDO_VERIFICATION), what="in the queue")
    await in_ddo_queue(stack, http, ddo, application_no)
    assert_error(await http.post(decision, json={"decision": "returned"}, headers=ddo), 422, "remarks_required")
    r = await http.post(
        decision, json={"decision": "returned", "remarks": {"bank_passbook": "the scan is not legible"}}, headers=ddo
    )
    assert r.status_code == 200, r.text

    async def returned():
        r = await http.get(f"{apps}/applications/{application_no}", headers=auth)
        body = r.json()
        return body["status"] == "returned" and body["stage"] == Stage.RETURNED_FOR_CORRECTION and body

    body = await eventually(returned, what="the return reaching the employee")
    assert body["remarks"] == {"bank_passbook": "the scan is not legible"}
    assert all(rule["passed"] for rule in body["eligibility"])

    async def told_in_english():
        r = await http.get(f"{stack.url('otp')}/dev/sms", params={"mobile": employee.actual_mobile})
        return [x for x in r.json() if x["template"] == "application_returned"]

    [sms] = await eventually(told_in_english, what="the return SMS")
    assert sms["language"] == "en" and sms["body"].startswith("Seva Suraksha: your DDO returned")

    r = await http.put(
        f"{apps}/applications/documents/bank_passbook",
        content=b"%PDF-1.4\n% clearer scan\n%%EOF\n",
        headers={**auth, "content-type": "application/pdf"},
    )
    assert r.json()["version"] == 2
    r = await http.put(f"{apps}/applications/{application_no}", json=application_form(m), headers=auth)
    assert r.status_code == 200, r.text
    await eventually(
        lambda: stage_is(temporal, m["employee_id"], Stage.AWAITING_DDO_VERIFICATION), what="back at the DDO"
    )

    async def pending_again():
        r = await http.get(f"{stack.url('verification')}/verification/queue", headers=ddo)
        return any(i["application_no"] == application_no for i in r.json())

    await eventually(pending_again, what="round 2 in the DDO's queue")
    assert (await http.post(decision, json={"decision": "verified"}, headers=ddo)).status_code == 200
    await eventually(lambda: stage_is(temporal, m["employee_id"], Stage.AWAITING_POST_CREATION), what="verified")
    r = await http.get(f"{apps}/applications/{application_no}", headers=auth)
    assert r.json()["submissions"] == 2 and r.json()["status"] == "resubmitted"


async def test_after_the_registration_deadline_submission_is_refused_clearly(stack, master, http, db):
    employee = [e for e in master.employees if e.fault is None][11]
    m = employee.master
    auth = await employee_session(stack, http, employee)
    await prepare_application(stack, http, auth, m["employee_id"])
    async with db.acquire() as conn:
        current = await calendar_in_force(conn, SEASON)
        now = datetime.now(UTC)
        await store_version(
            conn,
            replace(current, registration_open=now - timedelta(days=2), registration_close=now - timedelta(days=1)),
            "test",
            "registration closed yesterday",
        )
        try:
            r = await http.post(f"{stack.url('applications')}/applications", json=application_form(m), headers=auth)
            assert_error(r, 409, "registration_closed")
        finally:
            await store_version(conn, current, "test", "restored")
