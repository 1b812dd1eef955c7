"""Activities the case workflow runs in the verification service's process (task queue `verification`)."""

from __future__ import annotations

from typing import Any

from temporalio import activity

from contract import Activities, CaseClosure, Escalation, MissedDeadline, VerificationTask
from services.common.runtime import VerificationContext

from . import notify
from .escalation import escalate

# what a closure's reason is called in an officer's Hindi message (the English is the case's own words)
CLOSURE_WORDS_HI = {"superannuated": "कर्मचारी आदेश से पहले अधिवर्षिता आयु पर पहुँच गए, आदेश जारी नहीं होगा"}


def activities(ctx: VerificationContext) -> list[Any]:
    @activity.defn(name=Activities.OPEN_VERIFICATION_TASK.name)
    async def open_verification_task(task: VerificationTask) -> None:
        """Put the application in its DDO's queue (once, however often retried); a returned application
        that has been resubmitted comes back as a new round."""
        await ctx.pool.execute(
            "INSERT INTO verification.task (application_no, employee_id, ddo_code, department, district, due_at, "
            "superannuation_on, take_first) VALUES ($1, $2, $3, $4, $5, $6, $7::text::date, $8) "
            "ON CONFLICT (application_no) DO UPDATE SET status = 'pending', "
            "round = verification.task.round + 1, decided_by = NULL, decided_at = NULL, due_at = excluded.due_at "
            "WHERE verification.task.status = 'returned'",
            task.application_no,
            task.employee_id,
            task.ddo_code,
            task.department,
            task.district,
            task.due_at,
            task.superannuation_on,
            task.take_first,
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

    @activity.defn(name=Activities.CLOSE_VERIFICATION_TASK.name)
    async def close_verification_task(closure: CaseClosure) -> None:
        """A case closed without an order leaves the DDO's desk (if still there), and each officer on it is told
        once, in their language, with the case's reason: none of them should act on it, nor wonder where it went."""
        what = (f"application {closure.application_no}", f"आवेदन {closure.application_no}")
        reason = (closure.reason, CLOSURE_WORDS_HI.get(closure.reason_code, closure.reason))
        async with ctx.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE verification.task SET status = 'closed', closed_reason = $2 "
                "WHERE application_no = $1 AND status IN ('pending', 'returned')",
                closure.application_no,
                closure.reason,
            )
            for ref in closure.officer_refs:
                fresh = await conn.fetchval(
                    "INSERT INTO verification.officer_notification (officer_ref, kind, employee_id, application_no, "
                    "message, dedupe_key) VALUES ($1, 'case_closed', $2, $3, $4, $5) ON CONFLICT (dedupe_key) DO NOTHING "
                    "RETURNING 1",
                    ref,
                    closure.employee_id,
                    closure.application_no,
                    f"{what[0]} is closed without an order: {closure.reason}.",
                    f"{closure.employee_id}/closed/{closure.reason_code}/{ref}",
                )
                if fresh:
                    await notify.tell(conn, ref, "officer_case_closed", {"what": what, "reason": reason})

    return [open_verification_task, record_missed_deadline, escalate_case, close_verification_task]
