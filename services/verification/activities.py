"""Activities the case workflow runs in the verification service's process (task queue `verification`)."""

from __future__ import annotations

from temporalio import activity

from contract import Activities, Escalation, MissedDeadline, VerificationTask
from services.common.runtime import ServiceContext

from .escalation import escalate


def activities(ctx: ServiceContext) -> list:
    @activity.defn(name=Activities.OPEN_VERIFICATION_TASK.name)
    async def open_verification_task(task: VerificationTask) -> None:
        """Put the application in its DDO's queue (once, however often retried); a returned application
        that has been resubmitted comes back as a new round."""
        await ctx.pool.execute(
            "INSERT INTO verification.task (application_no, employee_id, ddo_code, department, district, due_at) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (application_no) DO UPDATE SET status = 'pending', "
            "round = verification.task.round + 1, decided_by = NULL, decided_at = NULL, due_at = excluded.due_at "
            "WHERE verification.task.status = 'returned'",
            task.application_no,
            task.employee_id,
            task.ddo_code,
            task.department,
            task.district,
            task.due_at,
        )

    @activity.defn(name=Activities.RECORD_MISSED_DEADLINE.name)
    async def record_missed_deadline(missed: MissedDeadline) -> None:
        """Record the missed deadline against the officer responsible (once per case and step)."""
        await ctx.pool.execute(
            "INSERT INTO verification.missed_deadline (employee_id, step, application_no, officer_role, officer_ref, "
            "deadline, noticed_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            missed.employee_id,
            missed.step,
            missed.application_no,
            missed.officer_role,
            missed.officer_ref,
            missed.deadline,
            missed.noticed_at,
        )

    @activity.defn(name=Activities.ESCALATE_CASE.name)
    async def escalate_case(esc: Escalation) -> None:
        """Hand the pending case a level up and tell both officers (once per case, step and level)."""
        await escalate(ctx, esc)

    return [open_verification_task, record_missed_deadline, escalate_case]
