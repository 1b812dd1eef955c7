"""One source of truth for who verifies: the DDO on the service record, whom the case routes the verification
to. Before, an application naming another DDO was taken: that DDO could open the review while the task sat in
the other DDO's queue, and neither could finish it."""

from __future__ import annotations

import pytest

from deploy.local.journey import application_form

from .conftest import prepare_application
from .helpers import assert_error, employee_session

pytestmark = pytest.mark.stack


async def test_an_application_naming_another_ddo_than_the_record_is_refused_with_the_right_one(stack, master, http):
    employee = [e for e in master.employees if e.fault is None][44]
    m = employee.master
    auth = await employee_session(stack, http, employee)
    await prepare_application(stack, http, auth, m["employee_id"])
    other = next(d for d in master.ddos if d["ddo_code"] != m["ddo_code"])
    form = {
        **application_form(m),
        "department_code": other["department_code"],
        "district": other["district"],
        "ddo_code": other["ddo_code"],
    }
    r = await http.post(f"{stack.url('applications')}/applications", json=form, headers=auth)
    assert_error(r, 422, "ddo_not_on_record")
    assert r.json()["details"]["ddo_code"] == m["ddo_code"] and m["ddo_code"] in r.json()["message"]
    r = await http.post(f"{stack.url('applications')}/applications", json=application_form(m), headers=auth)
    assert r.status_code == 201, r.text
