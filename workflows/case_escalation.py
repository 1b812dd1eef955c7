"""The rules about officers' steps and escalation: if an officer's deadline passes, the miss is recorded
against the officer and the case climbs a level at a time (DDO -> HoD -> Administrative Secretary; Finance ->
the Finance Secretary; HoD -> the department's Secretary), each level given the calendar's escalation window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contract import DDO_VERIFICATION, POST_CREATION, Activities, Escalation, MissedDeadline
    from contract import search_attributes as sa

from workflows.case_lapses import CaseLapses


def escalation_chain(step: str, department: str) -> list[tuple[str, str]]:
    """Who a missed step goes to, level by level: (role, reference)."""
    if step == DDO_VERIFICATION:
        return [("hod", f"hod:{department}"), ("admin_secretary", f"as:{department}")]
    if step == POST_CREATION:
        return [("admin_secretary", "as:FINANCE")]
    return [("admin_secretary", f"as:{department}")]


class CaseOfficerSteps(CaseLapses):
    """Waiting on an officer, with the misses recorded and the escalation."""

    async def _record_miss(self, step: str, role: str, ref: str, deadline: datetime) -> None:
        missed = MissedDeadline(
            employee_id=self._employee_id,
            application_no=self._application_no,
            step=step,
            officer_role=role,
            officer_ref=ref,
            deadline=deadline,
            noticed_at=workflow.now(),
        )
        self._missed.append(missed)
        await self._activity(Activities.RECORD_MISSED_DEADLINE, missed)

    async def _officer_step(
        self, done: Callable[[], bool], step: str, officer_role: str, officer_ref: str, overdue_stage: str
    ) -> None:
        """Wait for `done` (the officer's act) until the step's deadline, then escalate until someone acts."""
        if await self._wait_until(done, step):
            return
        await self._record_miss(step, officer_role, officer_ref, self._deadline(step))
        self._enter(overdue_stage, None, f"{officer_role} {officer_ref} missed the {step} deadline")
        assert self._calendar is not None and self._input is not None
        from_role, from_ref = officer_role, officer_ref
        for level, (role, ref) in enumerate(escalation_chain(step, self._input.department), start=1):
            now = workflow.now()
            respond_by = now + timedelta(days=self._calendar.escalation_days)
            days_overdue = (now - self._deadline(step)).days
            await self._activity(
                Activities.ESCALATE_CASE,
                Escalation(
                    employee_id=self._employee_id,
                    application_no=self._application_no,
                    step=step,
                    level=level,
                    from_role=from_role,
                    from_ref=from_ref,
                    to_role=role,
                    to_ref=ref,
                    deadline=self._deadline(step),
                    days_overdue=days_overdue,
                    escalated_at=now,
                    respond_by=respond_by,
                ),
            )
            self._escalated = True
            workflow.upsert_search_attributes([sa.ESCALATED.value_set(True)])
            self._note(f"escalated to {role} {ref}, {days_overdue} days after the {step} deadline")
            self._describe()
            try:
                await workflow.wait_condition(done, timeout=respond_by - now)
                return
            except TimeoutError:
                await self._record_miss(f"{step}/escalation-{level}", role, ref, respond_by)
                from_role, from_ref = role, ref
        await workflow.wait_condition(done)
