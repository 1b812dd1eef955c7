"""The cases worker's router (workflows/event_router.py) on the real Temporal server, for a case an operator
terminated: the event is parked as `case_not_running`, to be replayed once the case is started again (not
dropped, as for a case that ended on its own terms; tests/workflows/test_case_season.py)."""

from __future__ import annotations

import uuid

import pytest

from contract import CaseInput, EventType, case_workflow_id
from services.common.kafka import DeadLetter
from workflows.case import CaseWorkflow
from workflows.event_router import event_router

from .conftest import SEASON

pytestmark = pytest.mark.stack


async def test_an_event_for_a_terminated_case_is_parked_as_not_running(temporal):
    employee_id = f"EMP-STOPPED-{uuid.uuid4().hex[:6]}"
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
        task_queue=f"nobody-polls-{uuid.uuid4().hex[:6]}",
    )
    await handle.terminate("an operator stopped it")
    route = event_router(temporal, SEASON)
    event = {"event_id": str(uuid.uuid4()), "type": EventType.OTP_VERIFIED, "employee_id": employee_id, "data": {}}
    with pytest.raises(DeadLetter, match="terminated") as parked:
        await route(event)
    assert parked.value.reason == "case_not_running"
