"""A generated matrix of officers x actions on one employee's case: only the officer whose scope covers
the case may read or decide it; everyone else gets 403 or 404, the refusal is logged, nothing changes."""

from __future__ import annotations

import itertools

import pytest
import pytest_asyncio

from contract import Stage
from deploy.local.journey import application_form

from .conftest import eventually, prepare_application
from .helpers import employee_session, in_ddo_queue, officer_headers, stage_is

pytestmark = pytest.mark.stack

ACTORS = [
    "ddo_own",
    "ddo_other",
    "hod_own",
    "hod_other",
    "as_own",
    "as_other",
    "finance",
    "owner_right",
    "owner_wrong",
    "administrator",
    "employee_own",
    "employee_other",
    "anonymous",
]

# action -> the actors whose scope covers it (everyone else must be refused)
ALLOWED = {
    "see_in_ddo_queue": {"ddo_own"},
    "decide": {"ddo_own"},
    "bulk_verify": {"ddo_own"},
    "review": {"ddo_own", "hod_own", "as_own"},
    "download_document": {"ddo_own", "hod_own", "as_own"},
    "certify": {"ddo_own", "hod_own", "as_own"},
    "create_post": {"finance"},
    "approve": {"hod_own"},
    "correct_record": {"owner_right"},
    "record_history": {"owner_right"},
    "application_status": {"employee_own"},
    "accountability_report": {"administrator", "as_own", "as_other"},
    "stage_report": {"administrator", "as_own", "as_other", "finance"},
    "register_paper_order": {"hod_own", "administrator"},
    "bulk_approve": {"hod_own", "as_own"},
    "awaiting_approval": {"hod_own", "as_own"},
    "ddo_diagnoses": {"ddo_own"},
    "prefill": {"employee_own", "employee_other"},
}
MATRIX = [(actor, action) for actor, action in itertools.product(ACTORS, ALLOWED) if actor not in ALLOWED[action]]


@pytest_asyncio.fixture(scope="module")
async def world(stack, master, temporal, http):
    own, other = [e for e in master.employees if e.fault is None][16:18]
    m = own.master
    employee_own = await employee_session(stack, http, own)
    await prepare_application(stack, http, employee_own, m["employee_id"])
    form = application_form(m)
    application_no = (
        await http.post(f"{stack.url('applications')}/applications", json=form, headers=employee_own)
    ).json()["application_no"]
    await eventually(lambda: stage_is(temporal, m["employee_id"], Stage.AWAITING_DDO_VERIFICATION), what="queued")
    other_dept = next(d for d in master.departments if d != m["department_code"])
    other_ddo = next(d["ddo_code"] for d in master.ddos if d["ddo_code"] != m["ddo_code"])
    wrong_owner = next(o for o in ("HKRN", "TREASURY", "HARTRON") if o != m["data_owner"])
    officers = {
        "ddo_own": f"OFF-{m['ddo_code']}",
        "ddo_other": f"OFF-{other_ddo}",
        "hod_own": f"HOD-{m['department_code']}",
        "hod_other": f"HOD-{other_dept}",
        "as_own": f"AS-{m['department_code']}",
        "as_other": f"AS-{other_dept}",
        "finance": "FIN-1",
        "owner_right": f"DATA-{m['data_owner']}",
        "owner_wrong": f"DATA-{wrong_owner}",
        "administrator": "ADMIN-HR",
    }
    headers = {name: await officer_headers(stack, http, oid) for name, oid in officers.items()}
    await in_ddo_queue(stack, http, headers["ddo_own"], application_no)
    headers["employee_own"] = employee_own
    headers["employee_other"] = await employee_session(stack, http, other)
    headers["anonymous"] = {}
    return {"m": m, "application_no": application_no, "headers": headers}


def request_for(stack, world, action: str):
    m, no = world["m"], world["application_no"]
    v, a, o, otp = stack.url("verification"), stack.url("applications"), stack.url("orders"), stack.url("otp")
    cert = {
        "employee_id": m["employee_id"],
        "genuine_contractual_employee": True,
        "full_service_record_available": True,
        "pay_from_contractual_head": True,
        "remarks": "matrix probe",
    }
    return {
        "see_in_ddo_queue": ("GET", f"{v}/verification/queue", None),
        "decide": (
            "POST",
            f"{v}/verification/applications/{no}/decision",
            {"decision": "rejected", "reasons": ["duplicate_application"]},
        ),
        "bulk_verify": ("POST", f"{v}/verification/decisions/bulk", {"application_nos": [no]}),
        "review": ("GET", f"{a}/review/applications/{no}", None),
        "download_document": ("GET", f"{a}/review/applications/{no}/documents/pan", None),
        "certify": ("POST", f"{v}/verification/certificates", cert),
        "create_post": ("POST", f"{o}/posts", {"application_nos": [no]}),
        "approve": ("POST", f"{o}/orders/{no}/approve", None),
        "correct_record": (
            "PATCH",
            f"{otp}/master/employees/{m['employee_id']}",
            {"changes": {"post_code": "MTS"}, "reason": "matrix probe"},
        ),
        "record_history": ("GET", f"{otp}/master/employees/{m['employee_id']}/changes", None),
        "application_status": ("GET", f"{a}/applications/{no}", None),
        "accountability_report": ("GET", f"{v}/verification/reports/accountability", None),
        "prefill": ("GET", f"{otp}/master/me", None),
        "stage_report": ("GET", f"{o}/reports/stages", None),
        "register_paper_order": (
            "POST",
            f"{o}/orders/physical",
            {
                "employee_id": m["employee_id"],
                "department": m["department_code"],
                "reference": "MATRIX/1",
                "issued_on": "2025-11-02",
            },
        ),
        "bulk_approve": ("POST", f"{o}/orders/approvals", {"application_nos": [no]}),
        "awaiting_approval": ("GET", f"{o}/orders/awaiting-approval", None),
        "ddo_diagnoses": ("GET", f"{otp}/otp/diagnoses", None),
    }[action]


@pytest.mark.parametrize("actor, action", MATRIX, ids=[f"{a}-{b}" for a, b in MATRIX])
async def test_outside_scope_is_refused(stack, http, world, actor, action):
    method, url, body = request_for(stack, world, action)
    r = await http.request(method, url, json=body, headers=world["headers"][actor])
    if r.status_code == 200 and action in (
        "see_in_ddo_queue",
        "bulk_verify",
        "record_history",
        "bulk_approve",
        "awaiting_approval",
        "ddo_diagnoses",
    ):
        # list endpoints answer, but must not show or touch the case
        if action in ("see_in_ddo_queue", "awaiting_approval", "ddo_diagnoses"):
            assert world["application_no"] not in r.text and world["m"]["employee_id"] not in r.text
        elif action in ("bulk_verify", "bulk_approve"):
            assert r.json()[0]["ok"] is False
        else:
            assert r.json() == []
        return
    assert r.status_code in (401, 403, 404), f"{actor} {action}: {r.status_code} {r.text[:200]}"
    assert r.json()["code"] and r.json()["message"]


async def test_nothing_changed_and_the_refusals_were_logged(stack, http, db, temporal, world):
    m, no = world["m"], world["application_no"]
    assert await db.fetchval("SELECT status FROM verification.task WHERE application_no = $1", no) == "pending"
    assert (
        await db.fetchval("SELECT count(*) FROM verification.certificate WHERE employee_id = $1", m["employee_id"]) == 0
    )
    assert await db.fetchval("SELECT count(*) FROM otp.master_change WHERE employee_id = $1", m["employee_id"]) == 0
    assert await db.fetchval("SELECT count(*) FROM orders.case_request WHERE application_no = $1", no) == 0
    assert await stage_is(temporal, m["employee_id"], Stage.AWAITING_DDO_VERIFICATION)
    log = (stack.logs / "verification.log").read_text()
    assert f"denied POST /verification/applications/{no}/decision to OFF-" in log
    assert "denied GET /verification/queue to FIN-1 (finance)" in log
    # a refused item of a bulk request is logged as a denial too
    assert "denied POST /verification/decisions/bulk to OFF-" in log and f"({no})" in log
    assert "denied POST /orders/approvals to HOD-" in (stack.logs / "orders.log").read_text()

    # and the officer in scope can do it (one action, to show the matrix is not refusing everyone)
    r = await http.get(f"{stack.url('applications')}/review/applications/{no}", headers=world["headers"]["ddo_own"])
    assert r.status_code == 200


async def test_a_secretarys_reports_cover_their_own_department_only(stack, http, world):
    """Secretaries may read the reports, but each only for their department; the administrator sees all."""
    m = world["m"]
    for url in (
        f"{stack.url('verification')}/verification/reports/accountability?group_by=department",
        f"{stack.url('orders')}/reports/stages",
    ):
        mine = (await http.get(url, headers=world["headers"]["as_own"])).json()
        theirs = (await http.get(url, headers=world["headers"]["as_other"])).json()
        everyone = (await http.get(url, headers=world["headers"]["administrator"])).json()
        assert {r["key"] for r in mine} <= {m["department_code"]}
        assert m["department_code"] not in {r["key"] for r in theirs}
        if "accountability" in url:
            assert m["department_code"] in {r["key"] for r in mine} and m["department_code"] in {
                r["key"] for r in everyone
            }
