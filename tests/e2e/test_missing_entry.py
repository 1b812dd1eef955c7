"""A post missing from the drop-down list (the real portal's complaint): the refused application reports it to
the data owners and to the employee's case; the data owner adds the entry; the employee is told by SMS and
applies. Reported before the close, it would hold their registration open (tests/workflows)."""

from __future__ import annotations

import pytest

from contract import Stage
from deploy.local.journey import application_form

from .conftest import eventually, prepare_application
from .helpers import assert_error, case_stage, employee_session, officer_headers

pytestmark = pytest.mark.stack

POST = "XRAY-TECH-2"


async def test_a_post_missing_from_the_list_is_reported_added_and_the_employee_applies(stack, master, temporal, http):
    employee = [e for e in master.employees if e.fault is None][41]  # one no other test uses
    m = employee.master
    applications = stack.url("applications")
    auth = await employee_session(stack, http, employee)
    await prepare_application(stack, http, auth, m["employee_id"])
    form = {**application_form(m), "post_code": POST}
    r = await http.post(f"{applications}/applications", json=form, headers=auth)
    assert_error(r, 422, "unknown_post")
    assert "The data owners have been told" in r.json()["message"]
    again = await http.post(f"{applications}/applications", json=form, headers=auth)  # asked twice: one report
    assert_error(again, 422, "unknown_post")

    owner = await officer_headers(stack, http, "DATA-HKRN")
    r = await http.get(f"{applications}/master/missing", headers=owner)
    assert [(x["list_name"], x["employees"]) for x in r.json() if x["code"] == POST] == [("post", 1)]
    assert_error(await http.get(f"{applications}/master/missing", headers=auth), 403, "forbidden")

    async def noted(text: str):
        status = await case_stage(temporal, m["employee_id"])
        return any(text in h.note for h in status.history) and status

    await eventually(lambda: noted("refused for an entry missing from the lists"), what="the case heard the report")

    r = await http.post(f"{applications}/master/posts", json={"code": POST, "name": "X-ray technician"}, headers=owner)
    assert r.status_code == 201, r.text
    assert [
        x for x in (await http.get(f"{applications}/master/missing", headers=owner)).json() if x["code"] == POST
    ] == []

    async def told():
        r = await http.get(f"{stack.url('otp')}/dev/sms", params={"mobile": employee.actual_mobile})
        return [x for x in r.json() if x["template"] == "entry_added"]

    await eventually(told, what="the 'entry added' SMS")
    await eventually(lambda: noted(f"the missing post {POST} was added"), what="the case heard of the addition")
    r = await http.post(f"{applications}/applications", json=form, headers=auth)
    assert r.status_code == 201, r.text
    await eventually(
        lambda: _stage(temporal, m["employee_id"], Stage.AWAITING_DDO_VERIFICATION), what="the application went on"
    )


async def _stage(temporal, employee_id: str, stage: str) -> bool:
    return (await case_stage(temporal, employee_id)).stage == stage
