"""An employee whose case lapsed at the registration close hears within a minute that registration was
extended: the extension's event starts one batch job on the Temporal server that signals the lapsed cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.workflowservice.v1 import DescribeBatchOperationRequest

from contract import IST, Stage, case_workflow_id
from deploy.local.synthetic import generate
from workflows.calendar_fanout import batch_job_id
from workflows.case import CaseWorkflow

from .conftest import eventually
from .helpers import officer_headers, season_closing_soon

pytestmark = pytest.mark.stack

SEASON = "e2e-lapse"


async def test_a_lapsed_case_reopens_within_a_minute_of_a_registration_extension(stack, master, temporal, db, http):
    data = generate(1, seed=7, fault_share=0.0, first_id=990_001)
    employee = data.employees[0].master
    await season_closing_soon(stack, temporal, db, SEASON, 15, data)
    now = datetime.now(UTC)
    case = temporal.get_workflow_handle(case_workflow_id(employee["employee_id"], SEASON))

    async def stage() -> str:
        return (await case.query(CaseWorkflow.status)).stage

    await eventually(lambda: _is(stage, Stage.LAPSED_UNREGISTERED), timeout=90, what="the case lapsed")

    admin = await officer_headers(stack, http, "ADMIN-HR")
    extended_to = (now + timedelta(days=3)).astimezone(IST)
    r = await http.post(
        f"{stack.url('applications')}/calendar/changes",
        params={"season_id": SEASON},
        json={
            "step": "registration_close",
            "new_deadline": extended_to.isoformat(),
            "reason": "registration extended by the state",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    # its daily check-in is 12 to 36 hours away: only the batch job's word can reopen it this soon
    await eventually(lambda: _is(stage, Stage.AWAITING_REGISTRATION), timeout=60, what="the case reopened")
    status = await case.query(CaseWorkflow.status)
    assert status.calendar_version == r.json()["version"]
    assert status.history[-1].note.startswith("reopened: registration extended, now closes")

    async def told() -> list[str]:
        templates = [
            row["template"]
            for row in await db.fetch(
                "SELECT template FROM otp.sms_delivery WHERE employee_id = $1 ORDER BY handled_at",
                employee["employee_id"],
            )
        ]
        return templates if "registration_reopened" in templates else []

    assert (await eventually(told, what="the reopened SMS"))[-2:] == ["registration_lapsed", "registration_reopened"]

    job = await temporal.workflow_service.describe_batch_operation(
        DescribeBatchOperationRequest(
            namespace=temporal.namespace, job_id=batch_job_id({"season_id": SEASON, "version": status.calendar_version})
        )
    )
    assert job.complete_operation_count >= 1


async def _is(probe, expected: str) -> bool:
    return await probe() == expected
