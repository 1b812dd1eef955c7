"""Starting an employee's case: one workflow per employee, by `seva import` for the records loaded before the
season and by the cases worker when a data owner adds a record on a verification certificate (the person was in
no government database). An id already in use, open or closed, is left alone: starting again is harmless."""

from __future__ import annotations

from datetime import datetime

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from contract import CASES_TASK_QUEUE, CaseInput, case_summary, case_workflow_id
from workflows.case import CaseWorkflow


async def start_case(
    client: Client,
    employee_id: str,
    season_id: str,
    employee_group: str,
    department: str,
    district: str,
    ddo_code: str,
    restart_failed: bool = False,
    no_otp_reported_at: datetime | None = None,
    record_added_at: datetime | None = None,
) -> bool:
    """True if this call started the case; False if it was there already. With `restart_failed` (an operator has
    cleared why a case failed: `seva import --restart-failed --reason ...`), a case of this season whose run
    failed, was terminated or timed out starts again under the same id; one that is running or ended in the
    ordinary way (an order, a rejection, a lapse) is never started twice."""
    try:
        await client.start_workflow(
            CaseWorkflow.run,
            CaseInput(
                employee_id=employee_id,
                season_id=season_id,
                employee_group=employee_group,
                department=department,
                district=district,
                ddo_code=ddo_code,
                no_otp_reported_at=no_otp_reported_at,
                record_added_at=record_added_at,
            ),
            id=case_workflow_id(employee_id, season_id),
            task_queue=CASES_TASK_QUEUE,
            # what ops see in the Temporal UI's list (no personal data)
            static_summary=case_summary(employee_id, department, district, ddo_code),
            static_details=(
                f"Employee {employee_id} ({employee_group}) of {department}, {district}; DDO {ddo_code}; "
                f"season {season_id}."
            ),
            id_reuse_policy=(
                WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
                if restart_failed
                else WorkflowIDReusePolicy.REJECT_DUPLICATE
            ),
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True
