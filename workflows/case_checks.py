"""The checks on the employee's record that decide whether the case goes on: eligibility (on the master record
and the application as it stands), and superannuation at each officer's act (no order secures service up to a
date already past), and the DDO's queue that puts the employees about to retire first."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contract import (
        DDO_VERIFICATION,
        IST,
        ORDER_ISSUE,
        Activities,
        CaseClosure,
        CaseStatus,
        EligibilityRequest,
        Stage,
        VerificationTask,
        past_superannuation,
        superannuation_date,
    )

from workflows.case_escalation import CaseOfficerSteps
from workflows.case_state import Phase

# At each officer's act and before the order, a case whose employee is past the superannuation date is closed with
# that reason (and its officers told), never given an order securing a date already past (a patch: see case.py).
SUPERANNUATION_CLOSES_CASE = "superannuation-closes-case"


class CaseChecks(CaseOfficerSteps):
    """Eligibility, superannuation, and the application into the DDO's queue."""

    async def _eligible(self) -> bool:
        """Decide eligibility on the master record and the application as it stands now."""
        assert self._input is not None
        self._record = await self._activity(Activities.GET_SERVICE_RECORD, self._input.employee_id)
        self._eligibility = await self._activity(
            Activities.DECIDE_ELIGIBILITY, EligibilityRequest(self._input.employee_id, self._submitted, self._record)
        )
        if self._eligibility.eligible:
            self._note("eligible: every rule passed")
        return self._eligibility.eligible

    async def _close_ineligible(self) -> CaseStatus:
        reasons = self._eligibility.failed_reasons if self._eligibility else []
        return await self._close(Stage.INELIGIBLE, "not eligible: " + " ".join(reasons), "application_ineligible")

    async def _closed_at_superannuation(self) -> CaseStatus | None:
        """After each officer's act, and so before the order: if the employee's service has ended (past the
        superannuation date, in IST), the case closes with that reason, the officers' desks drop it and each is
        told, and the employee hears why. Age was checked at submission only, and an order weeks later secured
        service "up to" a date already past. Returns the closed case's status, or None to go on."""
        case = self._input
        if case is None or not workflow.patched(SUPERANNUATION_CLOSES_CASE):
            return None  # a case that ran this far before the check: as it ran
        if self._record is None or not self._record.date_of_birth:  # not carried when the case continued as new
            self._record = await self._activity(Activities.GET_SERVICE_RECORD, case.employee_id)
        born = self._record.date_of_birth if self._record else ""
        last_day = past_superannuation(born, workflow.now().astimezone(IST).date())
        if last_day is None:
            return None
        officers = [case.ddo_code, f"hod:{case.department}"]
        if self._phase >= Phase.POST:
            officers.insert(1, f"finance:{case.department}")
        reason = f"the employee reached superannuation on {last_day:%d %b %Y}, before the order: no order is issued"
        closure = CaseClosure(case.employee_id, self._submitted, "superannuated", reason, officers, workflow.now())
        await self._activity(Activities.CLOSE_POST_REQUEST, closure)
        await self._activity(Activities.CLOSE_VERIFICATION_TASK, closure)
        return await self._close(
            Stage.SUPERANNUATED, reason, "case_superannuated", {"last_day": f"{last_day:%d-%m-%Y}"}
        )

    def _superannuation_for_the_queue(self) -> tuple[str | None, bool]:
        """The employee's last day of service, and whether it comes before the season's last deadline (the DDO
        takes such a case first, as the pre-season audit asks)."""
        born = self._record.date_of_birth if self._record else ""
        if not born:
            return None, False
        last_day = superannuation_date(datetime.fromisoformat(born).date())
        return last_day.isoformat(), last_day <= self._deadline(ORDER_ISSUE).astimezone(IST).date()

    async def _to_the_ddo(self, note: str) -> None:
        """The application goes into its DDO's queue, due by the verification deadline."""
        case = self._input
        assert case is not None
        self._enter(Stage.AWAITING_DDO_VERIFICATION, DDO_VERIFICATION, note)
        superannuation_on, take_first = self._superannuation_for_the_queue()
        await self._activity(
            Activities.OPEN_VERIFICATION_TASK,
            VerificationTask(
                employee_id=case.employee_id,
                application_no=self._submitted,
                ddo_code=case.ddo_code,
                department=case.department,
                district=case.district,
                due_at=self._deadline(DDO_VERIFICATION),
                superannuation_on=superannuation_on,
                take_first=take_first,
            ),
        )
