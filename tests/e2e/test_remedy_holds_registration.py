"""An employee who asked "Why no OTP?" before registration closed and was told their record needs the officers'
remedy may still apply after the calendar's close: the OTP service tells the case (otp.no_otp_reported), the case
holds registration open, and the applications service asks the case before refusing a late submission. (The
Kafka path of the report into a case is in test_no_otp_remedy.) An
employee with no such report is refused at the close as before."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from contract import EventType, Stage, case_workflow_id
from deploy.local.journey import application_form
from deploy.local.synthetic import generate
from services.applications import service as applications
from services.applications.schemas import ApplicationForm
from services.common.errors import ApiError
from services.common.runtime import ServiceContext
from services.common.settings import ApplicationsSettings
from workflows.case import CaseWorkflow
from workflows.event_router import event_router

from .conftest import eventually, prepare_application
from .helpers import employee_session, season_closing_soon

pytestmark = pytest.mark.stack

SEASON = "e2e-held"


async def test_a_fault_reported_before_the_close_lets_the_employee_apply_after_it(stack, master, temporal, db, http):
    data = generate(2, seed=11, fault_share=1.0, first_id=990_101, fault_weights={"wrong_mobile": 1.0})
    reporter, silent = data.employees
    calendar = await season_closing_soon(stack, temporal, db, SEASON, 25, data)

    # the employee gets no OTP on their own number and asks why, before the close
    m = reporter.master
    r = await http.post(
        f"{stack.url('otp')}/otp/why-no-otp",
        json={
            "family_id": m["family_id"],
            "date_of_birth": str(reporter.ppp["date_of_birth"]),
            "mobile": reporter.actual_mobile,
        },
    )
    assert [c["code"] for c in r.json()["causes"]] == ["record_has_different_mobile"], r.text
    case = temporal.get_workflow_handle(case_workflow_id(m["employee_id"], SEASON))
    # The services of this stack run season "e2e", and their cases worker routes to that season's cases; this
    # season's case hears the OTP service's own event (from its outbox) through the same router function.
    report = await eventually(
        lambda: db.fetchval(
            "SELECT payload FROM otp.outbox WHERE event_type = $1 AND key = $2",
            EventType.NO_OTP_REPORTED,
            m["employee_id"],
        ),
        what="the report in the OTP service's outbox",
    )
    await event_router(temporal, SEASON)(json.loads(report) if isinstance(report, str) else report)

    async def held():
        status = await case.query(CaseWorkflow.status)
        return status.registration_held and status

    status = await eventually(held, what="the report reached the case")
    assert status.next_deadline == calendar.ddo_verification  # until the correction (none yet), at most this

    # the calendar's close passes: the other employee's case lapses, the reporter's waits
    silent_case = temporal.get_workflow_handle(case_workflow_id(silent.master["employee_id"], SEASON))

    async def lapsed():
        return (await silent_case.query(CaseWorkflow.status)).stage == Stage.LAPSED_UNREGISTERED

    await eventually(lapsed, timeout=90, what="the silent employee's case lapsed at the close")
    assert (await case.query(CaseWorkflow.status)).stage == Stage.AWAITING_REGISTRATION

    # after the close: the reporter (signing in with the number on record, as after a correction) applies
    ctx = ServiceContext("applications", ApplicationsSettings(env="dev", season_id=SEASON), db, temporal)
    auth = await employee_session(stack, http, SimpleNamespace(actual_mobile=m["mobile"]))
    await prepare_application(stack, http, auth, m["employee_id"])
    application_no, _ = await applications.submit(ctx, m["employee_id"], ApplicationForm(**application_form(m)))
    assert application_no.startswith(f"SS-{SEASON.upper()}-")

    # without a report, the close holds: refused with the date
    with pytest.raises(ApiError) as refused:
        await applications.submit(ctx, silent.master["employee_id"], ApplicationForm(**application_form(silent.master)))
    assert refused.value.status == 409 and refused.value.code == "registration_closed"
