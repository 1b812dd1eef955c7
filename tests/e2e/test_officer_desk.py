"""Officers' work through the APIs: review with documents and eligibility, bulk verification checked item by
item, Finance's list and batches, bulk approval, escalation to the HoD, notifications and reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from contract import Escalation, Stage
from deploy.local.journey import TINY_PDF
from deploy.local.synthetic import seeded_officers
from services.common.runtime import ServiceContext
from services.common.settings import VerificationSettings
from services.verification.escalation import escalate
from services.verification.notify import pending_digest

from .conftest import eventually
from .helpers import assert_error, officer_headers, stage_is, submitted_and_queued

pytestmark = pytest.mark.stack


@pytest_asyncio.fixture(scope="module")
async def submitted(stack, master, temporal, http):
    """Two employees with applications waiting at their DDOs."""
    out = []
    for employee in [e for e in master.employees if e.fault is None][14:16]:
        application_no, _, ddo = await submitted_and_queued(stack, http, temporal, employee)
        out.append({"m": employee.master, "application_no": application_no, "ddo": ddo})
    assert out[0]["m"]["ddo_code"] != out[1]["m"]["ddo_code"]
    return out


async def test_the_ddo_reviews_the_application_with_documents_and_eligibility(stack, http, submitted):
    a, b = submitted
    base = stack.url("applications")
    r = await http.get(f"{base}/review/applications/{a['application_no']}", headers=a["ddo"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["eligibility"]["eligible"] is True and len(body["eligibility"]["results"]) == 5
    assert {d["kind"] for d in body["documents"]} >= {"aadhaar", "bank_passbook"}
    assert body["aadhaar"].startswith("XXXX XXXX ") and len(body["submissions"]) == 1
    r = await http.get(f"{base}/review/applications/{a['application_no']}/documents/bank_passbook", headers=a["ddo"])
    assert r.status_code == 200 and r.content == TINY_PDF and r.headers["content-type"] == "application/pdf"
    assert_error(
        await http.get(f"{base}/review/applications/{a['application_no']}", headers=b["ddo"]),
        404,
        "application_not_found",
    )


async def test_bulk_verification_decides_each_item_on_its_own(stack, http, temporal, submitted):
    a, b = submitted
    r = await http.post(
        f"{stack.url('verification')}/verification/decisions/bulk",
        headers=a["ddo"],
        json={"application_nos": [a["application_no"], b["application_no"], "SS-NONE", a["application_no"]]},
    )
    assert r.status_code == 200, r.text
    results = {x["application_no"]: x for x in r.json()}
    assert len(r.json()) == 3
    assert results[a["application_no"]]["ok"] and results[a["application_no"]]["status"] == "verified"
    assert results[b["application_no"]]["code"] == "application_not_in_queue"
    assert results["SS-NONE"]["code"] == "application_not_in_queue"
    await eventually(lambda: stage_is(temporal, a["m"]["employee_id"], Stage.AWAITING_POST_CREATION), what="verified")
    assert await stage_is(temporal, b["m"]["employee_id"], Stage.AWAITING_DDO_VERIFICATION)


async def test_finance_lists_by_department_and_creates_a_counted_batch_once(stack, http, temporal, submitted, db):
    a = submitted[0]
    orders, finance = stack.url("orders"), await officer_headers(stack, http, "FIN-1")

    async def listed():
        r = await http.get(
            f"{orders}/posts/awaiting", params={"department": a["m"]["department_code"]}, headers=finance
        )
        return [x for x in r.json() if x["application_no"] == a["application_no"]]

    [item] = await eventually(listed, what="the case in Finance's list")
    assert item["post_code"] == a["m"]["post_code"]
    r = await http.get(f"{orders}/posts/awaiting", params={"department": "NO-SUCH"}, headers=finance)
    assert r.json() == []
    first = await http.post(f"{orders}/posts", json={"application_nos": [a["application_no"]]}, headers=finance)
    retry = await http.post(f"{orders}/posts", json={"application_nos": [a["application_no"]]}, headers=finance)
    assert first.json()["posts"][0]["post_id"] == retry.json()["posts"][0]["post_id"]
    counts = {
        r["batch_id"]: r["posts"]
        for r in await db.fetch(
            "SELECT batch_id::text, posts FROM orders.post_batch WHERE batch_id::text = ANY($1)",
            [first.json()["batch_id"], retry.json()["batch_id"]],
        )
    }
    assert counts == {first.json()["batch_id"]: 1, retry.json()["batch_id"]: 0}
    assert (
        await db.fetchval(
            "SELECT count(*) FROM orders.supernumerary_post WHERE application_no = $1", a["application_no"]
        )
        == 1
    )
    assert not await listed()

    # The HoD sees it waiting and approves in bulk, each item checked on its own.
    await eventually(lambda: stage_is(temporal, a["m"]["employee_id"], Stage.AWAITING_HOD_APPROVAL), what="at the HoD")
    hod = await officer_headers(stack, http, f"HOD-{a['m']['department_code']}")
    waiting = (await http.get(f"{orders}/orders/awaiting-approval", headers=hod)).json()
    assert a["application_no"] in [w["application_no"] for w in waiting]
    r = await http.post(
        f"{orders}/orders/approvals",
        headers=hod,
        json={"application_nos": [a["application_no"], submitted[1]["application_no"]]},
    )
    results = {x["application_no"]: x for x in r.json()}
    assert results[a["application_no"]]["ok"] is True
    assert results[submitted[1]["application_no"]]["code"] in ("case_not_in_department", "post_not_created")
    await eventually(lambda: stage_is(temporal, a["m"]["employee_id"], Stage.ORDER_ISSUED), what="order issued")
    report = (await http.get(f"{orders}/reports/stages", headers=finance)).json()
    assert any(row["key"] == a["m"]["department_code"] and row["orders_issued"] >= 1 for row in report)


async def test_an_escalated_case_reaches_the_hod_desk_and_both_officers_are_told(stack, http, db, temporal, submitted):
    b = submitted[1]
    m = b["m"]
    ctx = ServiceContext("verification", VerificationSettings(), db, temporal)
    now = datetime.now(UTC)
    esc = Escalation(
        employee_id=m["employee_id"],
        application_no=b["application_no"],
        step="ddo_verification",
        level=1,
        from_role="ddo",
        from_ref=m["ddo_code"],
        to_role="hod",
        to_ref=f"hod:{m['department_code']}",
        deadline=now - timedelta(days=3),
        days_overdue=3,
        escalated_at=now,
        respond_by=now + timedelta(days=7),
    )
    hod = await officer_headers(stack, http, f"HOD-{m['department_code']}")
    secretary = await officer_headers(stack, http, f"AS-{m['department_code']}")
    decision = f"{stack.url('verification')}/verification/applications/{b['application_no']}/decision"
    assert_error(await http.post(decision, json={"decision": "verified"}, headers=hod), 404, "application_not_in_queue")

    await escalate(ctx, esc)
    await escalate(ctx, esc)  # a retried activity changes nothing
    assert (
        await db.fetchval("SELECT count(*) FROM verification.escalation WHERE employee_id = $1", m["employee_id"]) == 1
    )
    queue = (await http.get(f"{stack.url('verification')}/verification/queue", headers=hod)).json()
    assert [q["escalation_level"] for q in queue if q["application_no"] == b["application_no"]] == [1]
    assert_error(
        await http.post(decision, json={"decision": "verified"}, headers=secretary), 404, "application_not_in_queue"
    )  # level 2 only
    told_hod = (await http.get(f"{stack.url('verification')}/verification/notifications", headers=hod)).json()
    told_ddo = (await http.get(f"{stack.url('verification')}/verification/notifications", headers=b["ddo"])).json()
    assert [n["kind"] for n in told_hod if n["employee_id"] == m["employee_id"]] == ["escalated_to_you"]
    assert [n["kind"] for n in told_ddo if n["employee_id"] == m["employee_id"]] == ["deadline_missed"]
    assert "3 days overdue" in told_ddo[0]["message"]

    # ... and told by SMS (and the HoD by e-mail too), in their language, once though escalated twice
    officers = {o["officer_id"]: o for o in seeded_officers()}
    head, ddo_officer = officers[f"HOD-{m['department_code']}"], officers[f"OFF-{m['ddo_code']}"]

    async def texts(mobile: str, template: str) -> list[dict[str, Any]]:
        r = await http.get(f"{stack.url('otp')}/dev/sms", params={"mobile": mobile})
        return [x for x in r.json() if x["template"] == template and b["application_no"] in x["body"]]

    [to_head] = await eventually(lambda: texts(head["mobile"], "officer_escalated_to_you"), what="the HoD's SMS")
    assert to_head["language"] == "hi" and "आपको भेजा गया है" in to_head["body"] and m["ddo_code"] in to_head["body"]
    [to_ddo] = await eventually(lambda: texts(ddo_officer["mobile"], "officer_deadline_missed"), what="the DDO's SMS")
    assert "3 दिन विलंब" in to_ddo["body"]

    async def mails() -> list[Any]:
        rows = await db.fetch(
            "SELECT template, outcome FROM otp.sms_delivery WHERE channel = 'email' AND email = $1 AND body LIKE $2",
            head["email"],
            f"%{b['application_no']}%",
        )
        # claimed ('sending') before the relay is called, recorded after: wait for the relay's answer
        return rows if rows and all(r["outcome"] != "sending" for r in rows) else []

    mailed = await eventually(mails, what="the HoD's e-mail")
    assert [(r["template"], r["outcome"]) for r in mailed] == [("officer_escalated_to_you", "delivered")]

    admin = await officer_headers(stack, http, "ADMIN-HR")
    report = (
        await http.get(
            f"{stack.url('verification')}/verification/reports/accountability",
            params={"group_by": "ddo"},
            headers=admin,
        )
    ).json()
    row = next(r for r in report if r["key"] == m["ddo_code"])
    assert row["pending"] == 1 and row["escalated"] == 1
    assert_error(
        await http.get(f"{stack.url('verification')}/verification/reports/accountability", headers=hod),
        403,
        "forbidden",
    )
    r = await http.post(decision, json={"decision": "verified"}, headers=hod)
    assert r.status_code == 200, r.text
    await eventually(lambda: stage_is(temporal, m["employee_id"], Stage.AWAITING_POST_CREATION), what="HoD verified")

    # Finance misses the post: the step is escalated to the Finance Department's Secretary, who can then act
    # on this case (and only once it is escalated); the same for the HoD's approval and the department's
    # Secretary. Before this, the Secretary's role was refused by every orders route.
    orders = stack.url("orders")
    fin_secretary = await officer_headers(stack, http, "AS-FINANCE")
    await eventually(
        lambda: db.fetchval("SELECT 1 FROM orders.case_request WHERE application_no = $1", b["application_no"]),
        what="the post request",
    )
    assert_error(
        await http.post(f"{orders}/posts", json={"application_nos": [b["application_no"]]}, headers=fin_secretary),
        403,
        "not_escalated_to_you",
    )
    await escalate(
        ctx,
        Escalation(
            employee_id=m["employee_id"],
            application_no=b["application_no"],
            step="post_creation",
            level=1,
            from_role="finance",
            from_ref=f"finance:{m['department_code']}",
            to_role="admin_secretary",
            to_ref="as:FINANCE",
            deadline=now - timedelta(days=1),
            days_overdue=1,
            escalated_at=now,
            respond_by=now + timedelta(days=7),
        ),
    )

    async def posted():
        r = await http.post(f"{orders}/posts", json={"application_nos": [b["application_no"]]}, headers=fin_secretary)
        return r.status_code == 200 and r.json()

    await eventually(posted, what="the escalated post created by the Finance Secretary")
    await eventually(lambda: stage_is(temporal, m["employee_id"], Stage.AWAITING_HOD_APPROVAL), what="post created")

    approve = f"{orders}/orders/{b['application_no']}/approve"
    assert_error(await http.post(approve, headers=secretary), 403, "not_escalated_to_you")
    other_secretary = await officer_headers(
        stack, http, f"AS-{next(d for d in ('HEALTH', 'PWD') if d != m['department_code'])}"
    )
    await escalate(
        ctx,
        Escalation(
            employee_id=m["employee_id"],
            application_no=b["application_no"],
            step="order_issue",
            level=1,
            from_role="hod",
            from_ref=f"hod:{m['department_code']}",
            to_role="admin_secretary",
            to_ref=f"as:{m['department_code']}",
            deadline=now - timedelta(days=1),
            days_overdue=1,
            escalated_at=now,
            respond_by=now + timedelta(days=7),
        ),
    )

    async def in_secretary_list():
        waiting = (await http.get(f"{orders}/orders/awaiting-approval", headers=secretary)).json()
        return b["application_no"] in [w["application_no"] for w in waiting]

    await eventually(in_secretary_list, what="the escalated approval on the Secretary's list")
    assert_error(await http.post(approve, headers=other_secretary), 404, "case_not_in_department")
    r = await http.post(approve, headers=secretary)
    assert r.status_code == 200, r.text
    await eventually(lambda: stage_is(temporal, m["employee_id"], Stage.ORDER_ISSUED), what="order issued")


async def test_each_desk_with_pending_verifications_is_told_once_a_day(stack, master, temporal, http, db):
    employee = [e for e in master.employees if e.fault is None][40]  # one no other test uses
    await submitted_and_queued(stack, http, temporal, employee)
    ddo_code = employee.master["ddo_code"]
    pending = await db.fetchval(
        "SELECT count(*) FROM verification.task WHERE status = 'pending' AND escalation_level = 0 AND ddo_code = $1",
        ddo_code,
    )
    now = datetime.now(UTC)
    async with db.acquire() as conn, conn.transaction():
        first = await pending_digest(conn, now)
    async with db.acquire() as conn, conn.transaction():
        again = await pending_digest(conn, now)  # the job run twice the same day
    assert first >= 1 and again == 0
    ddo = next(o for o in seeded_officers() if o["officer_id"] == f"OFF-{ddo_code}")

    async def digest() -> list[dict[str, Any]]:
        r = await http.get(f"{stack.url('otp')}/dev/sms", params={"mobile": ddo["mobile"]})
        return [x for x in r.json() if x["template"] == "officer_pending_work"]

    [text] = await eventually(digest, what="the DDO's pending-work SMS")
    assert text["body"].startswith(f"सेवा सुरक्षा: {pending} मामले आपकी प्रतीक्षा में हैं")
