"""The service-security order as issued: a PDF with the particulars and a QR code whose signed payload
anyone can verify; a tampered payload is refused; withdrawal is a new act; paper orders are void."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pypdf
import pypdfium2
import pytest
import pytest_asyncio
import zxingcpp

from contract import Stage, case_workflow_id, superannuation_date
from workflows.case import CaseWorkflow

from .conftest import SEASON, eventually
from .helpers import assert_error, officer_headers, stage_is, submitted_and_queued

pytestmark = pytest.mark.stack


@pytest_asyncio.fixture(scope="module")
async def issued(stack, master, temporal, http):
    """One employee driven from OTP to an issued order through the APIs."""
    employee = [e for e in master.employees if e.fault is None][12]
    m = employee.master
    application_no, auth, ddo = await submitted_and_queued(stack, http, temporal, employee)
    await http.post(
        f"{stack.url('verification')}/verification/applications/{application_no}/decision",
        json={"decision": "verified"},
        headers=ddo,
    )
    finance = await officer_headers(stack, http, "FIN-1")

    async def post():
        r = await http.post(f"{stack.url('orders')}/posts", json={"application_nos": [application_no]}, headers=finance)
        return r.status_code == 200

    await eventually(post, what="post")
    await eventually(lambda: stage_is(temporal, m["employee_id"], Stage.AWAITING_HOD_APPROVAL), what="at the HoD")
    hod = await officer_headers(stack, http, f"HOD-{m['department_code']}")
    await http.post(f"{stack.url('orders')}/orders/{application_no}/approve", headers=hod)
    result = await temporal.get_workflow_handle_for(
        CaseWorkflow.run, case_workflow_id(m["employee_id"], SEASON)
    ).result()
    return {"employee": employee, "auth": auth, "hod": hod, "order_no": result.order_no}


def qr_payload_of(pdf_bytes: bytes) -> tuple[str, str]:
    """The order's text as Chrome's PDF engine copies it, and its QR code as a camera reads the printed page."""
    assert len(pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages) == 1
    page = pypdfium2.PdfDocument(pdf_bytes)[0]
    [code] = zxingcpp.read_barcodes(page.render(scale=3).to_pil())
    return str(page.get_textpage().get_text_range()), code.text


async def test_the_pdf_carries_the_particulars_and_a_verifiable_qr_code(stack, http, issued):
    m, orders = issued["employee"].master, stack.url("orders")
    r = await http.get(f"{orders}/orders/{issued['order_no']}/pdf", headers=issued["auth"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = r.content
    text, payload = qr_payload_of(pdf)
    born = m["date_of_birth"]
    for expected in (
        issued["order_no"],
        m["name"],
        m["father_name"],
        m["employee_id"],
        m["department_code"],
        str(superannuation_date(born)),  # secure up to the last day of the month of attaining 58
    ):
        assert expected in text, f"{expected!r} missing from the order PDF"

    r = await http.post(f"{orders}/orders/verify-qr", json={"payload": payload})
    assert r.status_code == 200 and r.json()["genuine"] and r.json()["current"]
    assert r.json()["order_no"] == issued["order_no"]

    header, claims, signature = payload.split(".")
    import base64
    import json

    forged_claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    forged_claims["until"] = "2099-12-31"
    forged = ".".join(
        [header, base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).decode().rstrip("="), signature]
    )
    assert_error(await http.post(f"{orders}/orders/verify-qr", json={"payload": forged}), 422, "qr_not_genuine")
    flipped = payload[:-3] + ("A" if payload[-3] != "A" else "B") + payload[-2:]
    assert_error(await http.post(f"{orders}/orders/verify-qr", json={"payload": flipped}), 422, "qr_not_genuine")

    key = (await http.get(f"{orders}/orders/public-key")).json()
    assert "BEGIN PUBLIC KEY" in key["public_key_pem"]

    # and the PDF itself is signed (PAdES): intact, under the published chain's root, as any PDF reader checks it
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from services.orders.order_seal import check

    root = x509.load_pem_x509_certificates(key["pdf_signing_chain_pem"].encode())[-1]
    sealed = await asyncio.to_thread(check, pdf, root.public_bytes(serialization.Encoding.PEM))
    assert sealed.intact and sealed.trusted and "orders service" in sealed.signed_by


async def test_only_the_employee_and_the_department_see_the_pdf(stack, http, master, issued):
    m, orders = issued["employee"].master, stack.url("orders")
    other_department = next(d for d in master.departments if d != m["department_code"])
    other_hod = await officer_headers(stack, http, f"HOD-{other_department}")
    assert_error(await http.get(f"{orders}/orders/{issued['order_no']}/pdf", headers=other_hod), 404, "order_not_found")
    finance = await officer_headers(stack, http, "FIN-1")
    assert_error(await http.get(f"{orders}/orders/{issued['order_no']}/pdf", headers=finance), 403, "forbidden")
    assert (await http.get(f"{orders}/orders/{issued['order_no']}/pdf", headers=issued["hod"])).status_code == 200


async def test_an_order_is_immutable_and_withdrawal_is_a_new_act(stack, http, db, issued):
    orders, order_no = stack.url("orders"), issued["order_no"]
    with pytest.raises(Exception, match="cannot be changed"):
        await db.execute(
            "UPDATE orders.service_security_order SET secure_until = '2099-01-01' WHERE order_no = $1", order_no
        )
    assert_error(
        await http.post(f"{orders}/orders/{order_no}/withdraw", json={"reason": "x"}, headers=issued["hod"]),
        422,
        "invalid_request",
    )
    r = await http.post(
        f"{orders}/orders/{order_no}/withdraw", json={"reason": "issued on a forged record"}, headers=issued["hod"]
    )
    assert r.status_code == 200 and r.json()["genuine"] and not r.json()["current"]
    assert_error(
        await http.post(
            f"{orders}/orders/{order_no}/withdraw", json={"reason": "again, by mistake"}, headers=issued["hod"]
        ),
        409,
        "already_withdrawn",
    )
    r = await http.get(f"{orders}/orders/{order_no}/verify")
    assert r.json()["current"] is False and r.json()["withdrawal_reason"] == "issued on a forged record"


async def test_a_paper_order_is_declared_void_and_the_case_flagged(stack, http, master, temporal):
    employee = [e for e in master.employees if e.fault is None][13]
    m, orders = employee.master, stack.url("orders")
    hod = await officer_headers(stack, http, f"HOD-{m['department_code']}")
    body = {
        "employee_id": m["employee_id"],
        "department": m["department_code"],
        "reference": "HR/2025/1234",
        "issued_on": "2025-11-02",
    }
    r = await http.post(f"{orders}/orders/physical", json=body, headers=hod)
    assert r.status_code == 201 and r.json()["status"] == "void"
    assert_error(await http.post(f"{orders}/orders/physical", json=body, headers=hod), 409, "already_registered")
    other = next(d for d in master.departments if d != m["department_code"])
    assert_error(
        await http.post(f"{orders}/orders/physical", json={**body, "department": other}, headers=hod),
        422,
        "department_mismatch",
    )
    # another department's HoD may not, even naming the right department; nor for an employee with no case
    other_hod = await officer_headers(stack, http, f"HOD-{other}")
    assert_error(
        await http.post(f"{orders}/orders/physical", json={**body, "reference": "HR/2025/9"}, headers=other_hod),
        403,
        "forbidden",
    )
    assert_error(
        await http.post(
            f"{orders}/orders/physical",
            headers=hod,
            json={**body, "employee_id": "EMP9999999", "reference": "HR/2025/10"},
        ),
        404,
        "employee_not_found",
    )

    async def flagged():
        status = await temporal.get_workflow_handle(case_workflow_id(m["employee_id"], SEASON)).query("status")
        return any("physical order HR/2025/1234 declared void" in h["note"] for h in status["history"])

    await eventually(flagged, what="the case flagged")


async def test_the_order_pdf_is_drawn_in_a_thread_with_no_transaction_open_and_a_retry_issues_the_same_order(
    stack, monkeypatch
):
    """A burst of HoD approvals drew each order's PDF (about a quarter second of CPU) on the event loop inside
    the transaction that locked the case's request: three orders failed and a bulk approval got 503."""
    import asyncio
    import uuid

    import asyncpg

    from contract import OrderRequest
    from services.common.db import create_pool
    from services.common.runtime import ServiceContext
    from services.common.settings import OrdersSettings
    from services.orders import activities as order_activities

    pool = await create_pool(f"{stack.database_url}?application_name=order-pdf-test")
    watcher = await asyncpg.connect(stack.database_url)
    application_no, post_id = f"SS-T-PDF-{uuid.uuid4().hex[:6]}", f"SNP-T-{uuid.uuid4().hex[:6]}"
    await pool.execute(
        "INSERT INTO orders.case_request (application_no, employee_id, department, district, post_code, post_due_at) "
        "VALUES ($1, 'EMP-PDF-1', 'HEALTH', 'Hisar', 'STAFF-NURSE', now() + interval '1 day')",
        application_no,
    )
    batch = uuid.uuid4()
    await pool.execute("INSERT INTO orders.post_batch (batch_id, created_by, posts) VALUES ($1, 'FIN-1', 1)", batch)
    await pool.execute(
        "INSERT INTO orders.supernumerary_post (post_id, application_no, employee_id, department, post_code, "
        "batch_id, created_by) VALUES ($1, $2, 'EMP-PDF-1', 'HEALTH', 'STAFF-NURSE', $3, 'FIN-1')",
        post_id,
        application_no,
        batch,
    )
    loop = asyncio.get_running_loop()
    seen: list[tuple[bool, int]] = []
    from services.orders.order_document import render_pdf as real_render

    def watched_render(order: dict[str, Any], payload: str) -> bytes:
        try:
            asyncio.get_running_loop()
            on_the_loop = True
        except RuntimeError:
            on_the_loop = False
        in_transaction = asyncio.run_coroutine_threadsafe(
            watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'order-pdf-test' "
                "AND state LIKE 'idle in transaction%'"
            ),
            loop,
        ).result(10)
        seen.append((on_the_loop, in_transaction))
        return real_render(order, payload)

    monkeypatch.setattr(order_activities, "render_pdf", watched_render)
    ctx = ServiceContext("orders", OrdersSettings(env="dev", database_url=stack.database_url), pool, None)  # type: ignore[arg-type]
    [_, issue, _] = order_activities.activities(ctx)
    request = OrderRequest(
        employee_id="EMP-PDF-1",
        application_no=application_no,
        post_id=post_id,
        name="Test Name",
        date_of_birth="1990-05-17",
        post_code="STAFF-NURSE",
    )
    try:
        first = await issue(request)
        again = await issue(request)
        assert seen == [(False, 0)]  # drawn once, off the loop, no transaction of ours open meanwhile
        assert again == first and first.order_no.startswith("SSO/")
        assert (
            await pool.fetchval(
                "SELECT count(*) FROM orders.service_security_order WHERE application_no = $1", application_no
            )
            == 1
        )
    finally:
        await watcher.close()
        await pool.close()


async def test_an_order_with_blank_particulars_is_refused_for_good_not_issued(stack):
    """With the service record not found the case asked for an order with name "" and no date of birth, and
    one was issued, blank. Refused for good: the case waits in needs_attention with the reason."""
    from temporalio.exceptions import ApplicationError

    from contract import OrderRequest
    from services.common.db import create_pool
    from services.common.runtime import ServiceContext
    from services.common.settings import OrdersSettings
    from services.orders import activities as order_activities

    pool = await create_pool(stack.database_url)
    ctx = ServiceContext("orders", OrdersSettings(env="dev", database_url=stack.database_url), pool, None)  # type: ignore[arg-type]
    [_, issue, _] = order_activities.activities(ctx)
    try:
        with pytest.raises(ApplicationError, match="blank") as refused:
            await issue(OrderRequest(employee_id="EMP-BLANK-1", application_no="SS-T-BLANK-1", post_id="SNP-X"))
        assert refused.value.non_retryable
        assert (
            await pool.fetchval(
                "SELECT count(*) FROM orders.service_security_order WHERE application_no = 'SS-T-BLANK-1'"
            )
            == 0
        )
    finally:
        await pool.close()


async def test_a_case_closed_at_superannuation_leaves_every_desk_and_its_officers_are_told_once(stack, master, http):
    """The case's closing acts (workflows/case.py, _closed_at_superannuation) against the real services: the DDO's
    desk drops the task, Finance's and the HoD's lists drop the request, the HoD can no longer approve it, each
    officer is told once however often the activity runs; and the DDO's queue lists first the cases whose
    employee retires before the season ends. The order's own guard refuses an employee already retired."""
    from datetime import UTC, date, datetime, timedelta

    from temporalio.exceptions import ApplicationError

    from contract import CaseClosure, OrderRequest, PostRequest, VerificationTask
    from services.common.db import create_pool
    from services.common.runtime import ServiceContext
    from services.common.settings import OrdersSettings, VerificationSettings
    from services.orders import activities as order_activities
    from services.verification import activities as verification_activities

    m = master.employees[0].master
    ddo_code, department = m["ddo_code"], m["department_code"]
    pool = await create_pool(stack.database_url)
    orders = ServiceContext("orders", OrdersSettings(env="dev", database_url=stack.database_url), pool, None)  # type: ignore[arg-type]
    settings = VerificationSettings(env="dev", database_url=stack.database_url)
    verification = ServiceContext("verification", settings, pool, None)  # type: ignore[arg-type]
    open_task, _, _, close_task = verification_activities.activities(verification)
    open_post, issue, close_post = order_activities.activities(orders)
    due = datetime.now(UTC) + timedelta(days=30)
    try:
        await open_task(VerificationTask("EMP-SA-LATER", "SS-T-SA-LATER", ddo_code, department, "Hisar", due))
        await open_task(
            VerificationTask(
                "EMP-SA-1", "SS-T-SA-1", ddo_code, department, "Hisar", due + timedelta(days=5), "2027-01-31", True
            )
        )
        ddo = await officer_headers(stack, http, f"OFF-{ddo_code}")
        queue = (await http.get(f"{stack.url('verification')}/verification/queue", headers=ddo)).json()
        ours = [i["application_no"] for i in queue if i["application_no"].startswith("SS-T-SA-")]
        assert ours == ["SS-T-SA-1", "SS-T-SA-LATER"]  # due later, but the employee retires first
        assert queue[0]["take_first"] and queue[0]["superannuation_on"] == "2027-01-31"

        await open_post(PostRequest("EMP-SA-1", "SS-T-SA-1", department, "Hisar", "DEO", due))
        closure = CaseClosure(
            "EMP-SA-1",
            "SS-T-SA-1",
            "superannuated",
            "the employee reached superannuation on 31 Jan 2027, before the order: no order is issued",
            [ddo_code, f"finance:{department}", f"hod:{department}"],
            datetime.now(UTC),
        )
        for _ in range(2):  # a retried activity tells no one twice
            await close_post(closure)
            await close_task(closure)
        assert (
            await pool.fetchval("SELECT status FROM verification.task WHERE application_no = 'SS-T-SA-1'") == "closed"
        )
        told = await pool.fetch(
            "SELECT officer_ref FROM verification.officer_notification WHERE application_no = 'SS-T-SA-1' "
            "AND kind = 'case_closed' ORDER BY officer_ref"
        )
        assert sorted(r["officer_ref"] for r in told) == sorted(closure.officer_refs)
        queue = (await http.get(f"{stack.url('verification')}/verification/queue", headers=ddo)).json()
        assert "SS-T-SA-1" not in [i["application_no"] for i in queue]
        finance = await officer_headers(stack, http, "FIN-1")
        awaiting = (await http.get(f"{stack.url('orders')}/posts/awaiting", headers=finance)).json()
        assert "SS-T-SA-1" not in [i["application_no"] for i in awaiting]
        decision = await http.post(
            f"{stack.url('verification')}/verification/applications/SS-T-SA-1/decision",
            json={"decision": "verified"},
            headers=ddo,
        )
        assert_error(decision, 409, "case_closed")

        retired = date.today().replace(year=date.today().year - 60).isoformat()
        with pytest.raises(ApplicationError, match="superannuation") as refused:
            await issue(
                OrderRequest("EMP-SA-1", "SS-T-SA-1", "SNP-X", name="Ram Lal", date_of_birth=retired, post_code="DEO")
            )
        assert refused.value.non_retryable and refused.value.type == "Superannuated"
    finally:
        await pool.close()
