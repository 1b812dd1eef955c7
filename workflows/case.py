"""The case workflow: one employee's whole journey, from registration to the service-security order, read as
the process is: registration, the application, the DDO's verification (with return and resubmission), the
supernumerary post, the HoD's approval and the order. Each step is a method below, in that order; `run` takes
them in turn and resumes a case that continued as new at the step it was waiting on.

What the case heard from the services is a pure reducer (workflows/case_facts.py); the rules it waits by are
one module each: deadlines and reminders (case_deadlines.py), lapses and reopening (case_lapses.py), officers'
steps and escalation (case_escalation.py), eligibility and superannuation (case_checks.py), continuing as new
(case_carry.py); the state and the acts every step shares are in case_state.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from opentelemetry import propagate

    from contract import (
        DDO_VERIFICATION,
        ORDER_ISSUE,
        POST_CREATION,
        REGISTRATION_CLOSE,
        Activities,
        CaseEvent,
        CaseInput,
        CaseStatus,
        IssuedOrder,
        OrderRequest,
        PostRequest,
        RegistrationHold,
        Stage,
    )
    from contract import search_attributes as sa

from workflows.case_carry import CaseCarry
from workflows.case_checks import SUPERANNUATION_CLOSES_CASE
from workflows.case_facts import hear
from workflows.case_state import Phase, in_ist

# Every change to the case's commands is patched and replay-tested (docs/architecture.md, "Changing the case");
# the changes before go-live were squashed (no case ran in production). Patches since, oldest first:
# an employee's "Why no OTP?" before the close holds their registration open until the record is corrected
REMEDY_HOLDS_REGISTRATION = "remedy-holds-registration"
# What a run starts from (the state carried into a continued run, the hold of a case started on an added record)
# is taken in before the signals of its first task are heard, not after them (which lost those signals).
STATE_BEFORE_SIGNALS = "state-before-signals"
__all__ = ["CaseWorkflow", "Phase", "REMEDY_HOLDS_REGISTRATION", "STATE_BEFORE_SIGNALS", "SUPERANNUATION_CLOSES_CASE"]


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow(CaseCarry):
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        """The SDK runs the signal handlers of a run's first task before its run method: the state the run starts
        from is taken in here, so that a signal in that task (an event racing a new case, or arriving while the
        case continues as new) is heard on top of it instead of being overwritten by it."""
        super().__init__()
        self._taken_in = workflow.patched(STATE_BEFORE_SIGNALS)  # else the run takes it in, after the signals
        if self._taken_in:
            self._take_in(case)

    # ---- what the outside world sees -------------------------------------------------------------------------

    @workflow.signal(name="case_event")
    def case_event(self, event: CaseEvent) -> None:
        """Every service action arrives here, from a Kafka event; a redelivered event is ignored."""
        if event.event_id in self._facts.seen_events:
            return
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        if carrier:
            self._cause = carrier
        season = self._input.season_id if self._input else None
        heard = hear(self._facts, event, workflow.now(), season, lambda: workflow.patched(REMEDY_HOLDS_REGISTRATION))
        self._facts = heard.facts
        for note in heard.notes:
            self._note(note)
        if heard.ignored:
            workflow.logger.warning("case %s ignored unknown event type %s", self._employee_id, event.type)

    @workflow.signal(name="retry_step")
    def retry_step(self) -> None:
        """Ops have mended what made a step fail (`seva retry <employee id>`): try it again now."""
        self._retry_requests += 1

    @workflow.query(name="has_heard")
    def has_heard(self, event_id: str) -> bool:
        """Whether the case took in this event (the signaller asks a closed case about a late redelivery)."""
        return event_id in self._facts.seen_events

    @workflow.query(name="registration_hold")
    def registration_hold(self) -> RegistrationHold | None:
        """What holds this employee's registration open, if anything (the applications service asks after the
        calendar's close, and applies it to the calendar in force)."""
        return self._hold()

    @workflow.query(name="status")
    def status(self) -> CaseStatus:
        return self._status()

    # ---- the journey -----------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, case: CaseInput) -> CaseStatus:
        if not self._taken_in:  # a run begun before the patch: as it ran
            self._take_in(case)
        workflow.upsert_search_attributes(
            [
                sa.DEPARTMENT.value_set(case.department),
                sa.DISTRICT.value_set(case.district),
                sa.DDO_CODE.value_set(case.ddo_code),
                sa.EMPLOYEE_GROUP.value_set(case.employee_group),
                sa.ESCALATED.value_set(self._escalated if case.carried is None else case.carried.escalated),
            ]
        )
        if case.carried is None:
            self._calendar = await self._load_calendar()
        resume = self._phase
        steps = (
            (Phase.REGISTRATION, self._registration),
            (Phase.APPLICATION, self._application),
            (Phase.RETURNED, self._verification),  # the DDO's step, and the employee's while returned
            (Phase.POST, self._post),
            (Phase.HOD, self._approval_and_order),
        )
        for last_phase, step in steps:
            if resume > last_phase:  # the resume rule: a step before the one the case waited on is done
                continue
            if (closed := await step(resume)) is not None:
                return closed
        raise AssertionError("the order step always closes the case")

    async def _registration(self, resume: int) -> CaseStatus | None:
        """The employee registers with a mobile OTP before registration closes (held open for one who reported a
        record fault in time); a case that lapses waits for an extension until the season ends."""
        case = self._input
        assert case is not None
        if case.carried is None:
            self._enter(Stage.AWAITING_REGISTRATION, REGISTRATION_CLOSE, "case opened")
            if case.record_added_at is not None:
                self._note(
                    "the record was added by its data owner on a verification certificate"
                    + (f"; no OTP reported {in_ist(case.no_otp_reported_at)}" if case.no_otp_reported_at else "")
                )
        while not await self._wait_until(lambda: self._facts.registered, REGISTRATION_CLOSE, remind=True):
            note = "registration closed before the employee registered"
            if not await self._lapsed_until_reopened(Stage.LAPSED_UNREGISTERED, note, Stage.AWAITING_REGISTRATION):
                return self._end_season(Stage.LAPSED_UNREGISTERED)
        return None

    async def _application(self, resume: int) -> CaseStatus | None:
        """The application, by the same close; then eligibility, and the application to the DDO."""
        self._phase, resumed = Phase.APPLICATION, resume == Phase.APPLICATION
        while True:
            if not resumed:
                self._enter(Stage.AWAITING_APPLICATION, REGISTRATION_CLOSE, "registered with mobile OTP")
            resumed = False
            if await self._wait_until(lambda: self._facts.application is not None, REGISTRATION_CLOSE, remind=True):
                break
            note = "registration closed before an application was submitted"
            if not await self._lapsed_until_reopened(Stage.LAPSED_NO_APPLICATION, note):
                return self._end_season(Stage.LAPSED_NO_APPLICATION)
            if self._facts.application is not None:
                break
        if not await self._eligible():
            return await self._close_ineligible()
        await self._to_the_ddo(f"application {self._application_no} submitted")
        return None

    async def _verification(self, resume: int) -> CaseStatus | None:
        """The DDO verifies, returns for correction (the employee may resubmit until the DDO's own deadline) or
        rejects; a verified case asks Finance for a supernumerary post."""
        case = self._input
        assert case is not None
        returned = resume == Phase.RETURNED
        while True:
            if not returned:
                self._phase = Phase.DDO
                await self._officer_step(
                    lambda: self._facts.ddo_decision is not None,
                    DDO_VERIFICATION,
                    "ddo",
                    case.ddo_code,
                    Stage.VERIFICATION_OVERDUE,
                )
                decision = self._facts.ddo_decision
                assert decision is not None
                if decision.get("decision") != "returned":
                    break
                remarks = decision.get("remarks") or {}
                self._enter(
                    Stage.RETURNED_FOR_CORRECTION,
                    DDO_VERIFICATION,
                    "returned by the DDO for correction of: " + ", ".join(sorted(remarks)),
                )
                # counted before the SMS is awaited: a resubmission heard while it is on its way is not lost
                self._facts = dataclasses.replace(self._facts, ddo_decision=None)
                self._resubmissions_seen = self._facts.resubmissions
                await self._sms("application_returned", {}, f"returned-{self._resubmissions_seen}")
            returned, self._phase, seen = False, Phase.RETURNED, self._resubmissions_seen
            if not await self._wait_until(self._resubmitted_since(seen), DDO_VERIFICATION):
                return await self._close(
                    Stage.LAPSED_NOT_RESUBMITTED,
                    "not resubmitted before the verification deadline",
                    "resubmission_lapsed",
                )
            if not await self._eligible():
                return await self._close_ineligible()
            await self._to_the_ddo(f"application {self._application_no} resubmitted ({self._facts.resubmissions})")
        decision = self._facts.ddo_decision
        assert decision is not None
        if decision.get("decision") != "verified":
            reasons = decision.get("reasons") or ["no reason given"]
            return await self._close(
                Stage.REJECTED, "rejected by the DDO: " + ", ".join(reasons), "application_rejected"
            )
        if (closed := await self._closed_at_superannuation()) is not None:
            return closed
        self._enter(Stage.AWAITING_POST_CREATION, POST_CREATION, "service record verified by the DDO")
        application = self._facts.application
        assert application is not None
        await self._activity(
            Activities.OPEN_POST_REQUEST,
            PostRequest(
                employee_id=case.employee_id,
                application_no=self._submitted,
                department=case.department,
                district=case.district,
                post_code=str(application.get("post_code", "")),
                due_at=self._deadline(POST_CREATION),
            ),
        )
        return None

    def _resubmitted_since(self, seen: int) -> Callable[[], bool]:
        return lambda: self._facts.resubmissions > seen

    async def _post(self, resume: int) -> CaseStatus | None:
        """Finance creates the supernumerary post."""
        assert self._input is not None
        self._phase = Phase.POST
        await self._officer_step(
            lambda: self._facts.post_id is not None,
            POST_CREATION,
            "finance",
            f"finance:{self._input.department}",
            Stage.POST_CREATION_OVERDUE,
        )
        if (closed := await self._closed_at_superannuation()) is not None:
            return closed
        self._enter(Stage.AWAITING_HOD_APPROVAL, ORDER_ISSUE, f"supernumerary post {self._facts.post_id} created")
        return None

    async def _approval_and_order(self, resume: int) -> CaseStatus:
        """The HoD approves, and the service-security order is issued on the record's particulars."""
        case = self._input
        assert case is not None
        self._phase = Phase.HOD
        await self._officer_step(
            lambda: self._facts.order_approved,
            ORDER_ISSUE,
            "hod",
            f"hod:{case.department}",
            Stage.HOD_APPROVAL_OVERDUE,
        )
        if (closed := await self._closed_at_superannuation()) is not None:
            return closed
        record = self._record
        if record is None or not record.name:
            record = await self._activity(Activities.GET_SERVICE_RECORD, case.employee_id)
        issued: IssuedOrder = await self._activity(
            Activities.ISSUE_ORDER,
            OrderRequest(
                employee_id=case.employee_id,
                application_no=self._submitted,
                post_id=self._facts.post_id or "",
                name=record.name if record else "",
                father_name=record.father_name if record else "",
                date_of_birth=record.date_of_birth if record else "",
                post_code=record.post_code if record else "",
            ),
        )
        self._order_no = issued.order_no
        return await self._close(
            Stage.ORDER_ISSUED,
            f"service-security order {issued.order_no} issued",
            "order_issued",
            {"order_no": issued.order_no},
        )
