"""The case workflow: one employee's whole journey, from registration to the service-security order.

It holds the stage, waits with timers on the deadlines of the season calendar, and hears what
employees and officers do as signals. When a timer fires it re-reads the calendar first, so an
extension stored as data takes effect without a redeploy and without a signal per case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from opentelemetry import context as otel_context
    from opentelemetry import propagate

    from contract import (
        DDO_VERIFICATION,
        IST,
        ORDER_ISSUE,
        POST_CREATION,
        REGISTRATION_CLOSE,
        Activities,
        ActivityRef,
        CarriedCase,
        CaseClosure,
        CaseEvent,
        CaseInput,
        CaseStatus,
        EligibilityDecision,
        EligibilityRequest,
        Escalation,
        EventType,
        IssuedOrder,
        MissedDeadline,
        OrderRequest,
        PostRequest,
        RegistrationHold,
        SeasonCalendar,
        ServiceRecord,
        SmsRequest,
        Stage,
        StageChange,
        VerificationTask,
        past_superannuation,
        stage_in_words,
        superannuation_date,
    )
    from contract import search_attributes as sa


# Every change to the case's commands is patched and replay-tested (docs/architecture.md, "Changing the case");
# the changes before go-live were squashed (no case ran in production). Patches since, oldest first:
# an employee's "Why no OTP?" before the close holds their registration open until the record is corrected
REMEDY_HOLDS_REGISTRATION = "remedy-holds-registration"
# What a run starts from (the state carried into a continued run, the hold of a case started on an added record)
# is taken in before the signals of its first task are heard, not after them (which lost those signals).
STATE_BEFORE_SIGNALS = "state-before-signals"
# At each officer's act and before the order, a case whose employee is past the superannuation date is closed with
# that reason (and its officers told), never given an order securing a date already past.
SUPERANNUATION_CLOSES_CASE = "superannuation-closes-case"
REMINDER_DAYS = (7, 1)  # SMS reminders this many days before registration closes
# A waiting case looks at the calendar about once a day (12 to 36 hours, drawn per wake-up so that 1,20,000
# cases imported in one evening spread over the day: about 1.4 wake-ups a second), so a deadline brought
# forward is kept and the NextDeadline that ops see follows an extension made weeks ahead.
CHECK_IN_HOURS = (12.0, 36.0)

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# A step's activity is retried for about 15 minutes (20 attempts, at most a minute apart); if it still fails, or
# fails for good (a non-retryable error: services/common/temporal.py), the case shows `needs_attention` with the
# reason and tries again every ATTENTION_RETRY or when ops ask (`seva retry`). A service that is down delays a
# case, never loses it, and never fails it silently.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1), maximum_attempts=20
)
ATTENTION_RETRY = timedelta(minutes=10)
LOCAL_ACTIVITY_TIMEOUT = timedelta(seconds=10)


class Phase:
    """Where a case that continued as new resumes: the step it was waiting on (in order)."""

    REGISTRATION, APPLICATION, DDO, RETURNED, POST, HOD = 1, 2, 3, 4, 5, 6


def _ist(moment: datetime) -> str:
    """A moment as people in Haryana read it: converted to IST (it added 5 h 30 to whatever zone it was given;
    the workflow's moments are UTC, so what a running case writes is unchanged)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(IST).strftime("%d %b %Y %H:%M IST")


# The step whose deadline an overdue stage has missed (for the case's details in words).
OVERDUE_STEP = {
    Stage.VERIFICATION_OVERDUE: DDO_VERIFICATION,
    Stage.POST_CREATION_OVERDUE: POST_CREATION,
    Stage.HOD_APPROVAL_OVERDUE: ORDER_ISSUE,
}


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow:
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        """The SDK runs the signal handlers of a run's first task before its run method: the state the run starts
        from is taken in here, so that a signal in that task (an event racing a new case, or arriving while the
        case continues as new) is heard on top of it instead of being overwritten by it."""
        self._input: CaseInput | None = None
        self._calendar: SeasonCalendar | None = None
        self._stage = Stage.AWAITING_REGISTRATION
        self._next_step: str | None = None
        self._history: list[StageChange] = []
        self._missed: list[MissedDeadline] = []
        self._seen_events: set[str] = set()
        self._registered = False
        self._application: dict[str, Any] | None = None
        self._ddo_decision: dict[str, Any] | None = None
        self._post_id: str | None = None
        self._order_approved = False
        self._order_no: str | None = None
        self._eligibility: EligibilityDecision | None = None
        self._resubmissions = 0
        self._record: ServiceRecord | None = None
        self._escalated = False
        self._acts = 0  # registrations and submissions heard, for reopening a lapsed case
        self._announced_version = 0  # the newest calendar version a registration extension was announced in
        self._reminded: set[str] = set()  # reminders sent, by deadline and days before it
        self._cause: dict[str, str] = {}  # trace context of the last action heard: what follows is its work
        self._shown_deadline: datetime | None = None  # the NextDeadline search attribute as last set
        self._attention: str | None = None  # why the case waits for ops, while it does
        self._retry_requests = 0  # ops asked to retry a step that needs attention
        self._phase = Phase.REGISTRATION  # the step being waited on, for continuing as new
        self._resubmissions_seen = 0  # resubmissions counted when the case was last returned
        self._runs = 1  # this run and those it continued from
        # a fault only others can mend, reported by the employee (no OTP, a missing entry), and its correction
        self._fault_reported_at: datetime | None = None
        self._record_corrected_at: datetime | None = None  # the data owner's latest correction after that report
        self._taken_in = workflow.patched(STATE_BEFORE_SIGNALS)  # else the run takes it in, after the signals
        if self._taken_in:
            self._take_in(case)

    # ---- what the outside world sees -------------------------------------------------------

    @workflow.signal(name="case_event")
    def case_event(self, event: CaseEvent) -> None:
        """Every service action arrives here, from a Kafka event; a redelivered event is ignored."""
        if event.event_id in self._seen_events:
            return
        self._seen_events.add(event.event_id)
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        if carrier:
            self._cause = carrier
        if event.type == EventType.OTP_VERIFIED:
            self._registered = True
            self._acts += 1
        elif event.type == EventType.APPLICATION_SUBMITTED:
            self._application = dict(event.data)
            self._acts += 1
        elif event.type == EventType.APPLICATION_RESUBMITTED:
            self._application = dict(event.data)
            self._resubmissions += 1
        elif event.type == EventType.VERIFICATION_DECIDED:
            self._ddo_decision = dict(event.data)
        elif event.type == EventType.POST_CREATED:
            self._post_id = event.data["post_id"]
        elif event.type == EventType.ORDER_APPROVED:
            self._order_approved = True
        elif event.type == EventType.CERTIFICATE_ISSUED:
            self._note(
                f"verification certificate issued by {event.data.get('issued_by')} ({event.data.get('issuer_role')})"
            )
        elif event.type == EventType.PHYSICAL_ORDER_VOIDED:
            self._note(
                f"physical order {event.data.get('reference')} declared void: this case is processed on the portal"
            )
        elif event.type == EventType.CALENDAR_CHANGED:
            if self._input and event.data.get("season_id") == self._input.season_id:  # the job is not per season
                self._announced_version = max(self._announced_version, int(event.data.get("version") or 0))
        elif event.type == EventType.RECORD_CORRECTED:
            self._note(
                f"service record corrected by {event.data.get('data_owner')}: "
                + ", ".join(event.data.get("fields") or [])
            )
            if self._fault_reported_at is not None:  # set only under the patch below
                self._record_corrected_at = workflow.now()
        elif event.type == EventType.ENTRY_ADDED and self._fault_reported_at is not None:
            self._note(f"the missing {event.data.get('list_name')} {event.data.get('code')} was added to the lists")
            self._record_corrected_at = workflow.now()
        elif event.type in (EventType.NO_OTP_REPORTED, EventType.APPLICATION_BLOCKED) and workflow.patched(
            REMEDY_HOLDS_REGISTRATION
        ):
            reported = datetime.fromisoformat(str(event.data["reported_at"]))
            if self._fault_reported_at is None:  # the first report is the one that counts (and is noted)
                causes = ", ".join(event.data.get("causes") or [])
                self._note(
                    f"the employee reported no OTP; the record needs: {causes}"
                    if event.type == EventType.NO_OTP_REPORTED
                    else f"the employee's application was refused for an entry missing from the lists: {causes}"
                )
            if self._fault_reported_at is None or reported < self._fault_reported_at:
                self._fault_reported_at = reported
        else:
            workflow.logger.warning("case %s ignored unknown event type %s", self._employee_id, event.type)

    @workflow.signal(name="retry_step")
    def retry_step(self) -> None:
        """Ops have mended what made a step fail (`seva retry <employee id>`): try it again now."""
        self._retry_requests += 1

    @workflow.query(name="has_heard")
    def has_heard(self, event_id: str) -> bool:
        """Whether the case took in this event (the signaller asks a closed case about a late redelivery)."""
        return event_id in self._seen_events

    @workflow.query(name="registration_hold")
    def registration_hold(self) -> RegistrationHold | None:
        """What holds this employee's registration open, if anything (the applications service asks after the
        calendar's close, and applies it to the calendar in force)."""
        if self._fault_reported_at is None:
            return None
        return RegistrationHold(self._fault_reported_at, self._record_corrected_at)

    @workflow.query(name="status")
    def status(self) -> CaseStatus:
        return CaseStatus(
            employee_id=self._employee_id,
            stage=self._stage,
            application_no=self._application_no,
            post_id=self._post_id,
            order_no=self._order_no,
            next_step=self._next_step,
            next_deadline=self._next_deadline(),
            calendar_version=self._calendar.version if self._calendar else 0,
            history=list(self._history),
            missed_deadlines=list(self._missed),
            eligibility=self._eligibility,
            escalated=self._escalated,
            needs_attention=self._attention,
            registration_held=bool(
                self._calendar and self._deadline(REGISTRATION_CLOSE) != self._calendar.registration_close
            ),
            registration_hold=self.registration_hold(),
        )

    # ---- the journey -------------------------------------------------------------------------

    @workflow.run
    async def run(self, case: CaseInput) -> CaseStatus:
        if not self._taken_in:  # a run begun before the patch: as it ran
            self._take_in(case)
        carried = case.carried
        workflow.upsert_search_attributes(
            [
                sa.DEPARTMENT.value_set(case.department),
                sa.DISTRICT.value_set(case.district),
                sa.DDO_CODE.value_set(case.ddo_code),
                sa.EMPLOYEE_GROUP.value_set(case.employee_group),
                sa.ESCALATED.value_set(self._escalated if carried is None else carried.escalated),
            ]
        )
        if carried is None:
            self._calendar = await self._load_calendar()
        phase = self._phase  # resumed there: what came before it is done

        if phase <= Phase.REGISTRATION:
            if carried is None:
                self._enter(Stage.AWAITING_REGISTRATION, REGISTRATION_CLOSE, "case opened")
                if case.record_added_at is not None:
                    self._note(
                        "the record was added by its data owner on a verification certificate"
                        + (f"; no OTP reported {_ist(case.no_otp_reported_at)}" if case.no_otp_reported_at else "")
                    )
            while not await self._wait_until(lambda: self._registered, REGISTRATION_CLOSE, remind=True):
                note = "registration closed before the employee registered"
                if not await self._lapsed_until_reopened(Stage.LAPSED_UNREGISTERED, note, Stage.AWAITING_REGISTRATION):
                    return self._end_season(Stage.LAPSED_UNREGISTERED)

        if phase <= Phase.APPLICATION:
            self._phase, resumed = Phase.APPLICATION, phase == Phase.APPLICATION
            while True:
                if not resumed:
                    self._enter(Stage.AWAITING_APPLICATION, REGISTRATION_CLOSE, "registered with mobile OTP")
                resumed = False
                if await self._wait_until(lambda: self._application is not None, REGISTRATION_CLOSE, remind=True):
                    break
                note = "registration closed before an application was submitted"
                if not await self._lapsed_until_reopened(Stage.LAPSED_NO_APPLICATION, note):
                    return self._end_season(Stage.LAPSED_NO_APPLICATION)
                if self._application is not None:
                    break

            if not await self._eligible():
                return await self._close_ineligible()
            await self._to_the_ddo(f"application {self._application_no} submitted")

        if phase <= Phase.RETURNED:
            returned = phase == Phase.RETURNED
            while True:
                if not returned:
                    self._phase = Phase.DDO
                    await self._officer_step(
                        lambda: self._ddo_decision is not None,
                        DDO_VERIFICATION,
                        "ddo",
                        case.ddo_code,
                        Stage.VERIFICATION_OVERDUE,
                    )
                    assert self._ddo_decision is not None
                    if self._ddo_decision.get("decision") != "returned":
                        break
                    # Returned for correction: the employee may resubmit until the DDO's own deadline.
                    remarks = self._ddo_decision.get("remarks") or {}
                    self._enter(
                        Stage.RETURNED_FOR_CORRECTION,
                        DDO_VERIFICATION,
                        "returned by the DDO for correction of: " + ", ".join(sorted(remarks)),
                    )
                    # counted before the SMS is awaited: a resubmission heard while it is on its way is not lost
                    self._ddo_decision, self._resubmissions_seen = None, self._resubmissions
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
                await self._to_the_ddo(f"application {self._application_no} resubmitted ({self._resubmissions})")
            assert self._ddo_decision is not None
            if self._ddo_decision.get("decision") != "verified":
                return await self._close(
                    Stage.REJECTED,
                    "rejected by the DDO: " + ", ".join(self._ddo_decision.get("reasons") or ["no reason given"]),
                    "application_rejected",
                )
            if (closed := await self._closed_at_superannuation()) is not None:
                return closed

            self._enter(Stage.AWAITING_POST_CREATION, POST_CREATION, "service record verified by the DDO")
            assert self._application is not None
            await self._activity(
                Activities.OPEN_POST_REQUEST,
                PostRequest(
                    employee_id=case.employee_id,
                    application_no=self._submitted,
                    department=case.department,
                    district=case.district,
                    post_code=str(self._application.get("post_code", "")),
                    due_at=self._deadline(POST_CREATION),
                ),
            )

        if phase <= Phase.POST:
            self._phase = Phase.POST
            await self._officer_step(
                lambda: self._post_id is not None,
                POST_CREATION,
                "finance",
                f"finance:{case.department}",
                Stage.POST_CREATION_OVERDUE,
            )
            if (closed := await self._closed_at_superannuation()) is not None:
                return closed
            self._enter(Stage.AWAITING_HOD_APPROVAL, ORDER_ISSUE, f"supernumerary post {self._post_id} created")

        self._phase = Phase.HOD
        await self._officer_step(
            lambda: self._order_approved, ORDER_ISSUE, "hod", f"hod:{case.department}", Stage.HOD_APPROVAL_OVERDUE
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
                post_id=self._post_id or "",
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

    # ---- continuing as new -------------------------------------------------------------------

    def _continue_if_long(self) -> None:
        """At a safe point (a daily look at the calendar while waiting on a step), a long run continues as new,
        carrying what the case knows, so its history stays short however long the season runs."""
        assert self._input is not None
        if workflow.info().get_current_history_length() < self._input.continue_after_events:
            return
        carried = CarriedCase(
            phase=self._phase,
            stage=self._stage,
            next_step=self._next_step,
            history=list(self._history),
            missed=list(self._missed),
            seen_events=sorted(self._seen_events),
            registered=self._registered,
            application=self._application,
            ddo_decision=self._ddo_decision,
            post_id=self._post_id,
            order_approved=self._order_approved,
            eligibility=self._eligibility,
            resubmissions=self._resubmissions,
            resubmissions_seen=self._resubmissions_seen,
            escalated=self._escalated,
            acts=self._acts,
            announced_version=self._announced_version,
            reminded=sorted(self._reminded),
            calendar=self._calendar,
            shown_deadline=self._shown_deadline,
            runs=self._runs,
            fault_reported_at=self._fault_reported_at,
            record_corrected_at=self._record_corrected_at,
        )
        workflow.continue_as_new(dataclasses.replace(self._input, carried=carried))

    def _take_in(self, case: CaseInput) -> None:
        """What this run starts from: the case carried from the run before, or a new case's input."""
        self._input = case
        if case.carried is not None:
            self._restore(case.carried)
        elif case.no_otp_reported_at is not None:
            # started on a record added for a person who reported in time: registration is held open for them
            reported = case.no_otp_reported_at
            if self._fault_reported_at is None or reported < self._fault_reported_at:
                self._fault_reported_at = reported
            self._record_corrected_at = case.record_added_at

    def _restore(self, c: CarriedCase) -> None:
        self._phase, self._stage, self._next_step = c.phase, c.stage, c.next_step
        self._history, self._missed, self._seen_events = list(c.history), list(c.missed), set(c.seen_events)
        self._registered, self._application, self._ddo_decision = c.registered, c.application, c.ddo_decision
        self._post_id, self._order_approved, self._eligibility = c.post_id, c.order_approved, c.eligibility
        self._resubmissions, self._resubmissions_seen = c.resubmissions, c.resubmissions_seen
        self._escalated, self._acts, self._announced_version = c.escalated, c.acts, c.announced_version
        self._reminded, self._calendar, self._shown_deadline = set(c.reminded), c.calendar, c.shown_deadline
        self._runs = c.runs + 1
        self._fault_reported_at, self._record_corrected_at = c.fault_reported_at, c.record_corrected_at
        self._note(f"continued as new (run {self._runs}) to keep the history short")

    # ---- helpers -----------------------------------------------------------------------------

    @property
    def _employee_id(self) -> str:
        return self._input.employee_id if self._input else ""

    @property
    def _application_no(self) -> str | None:
        return self._application.get("application_no") if self._application else None

    def _resubmitted_since(self, seen: int) -> Callable[[], bool]:
        return lambda: self._resubmissions > seen

    def _acted_since(self, seen: int) -> Callable[[], bool]:
        """Someone acted on the lapsed case, or word came of a newer calendar."""
        return lambda: self._acts > seen or self._told_of_newer_calendar()

    @property
    def _submitted(self) -> str:
        """The application number, in every step after the application came (there is one then)."""
        assert self._application is not None
        return str(self._application["application_no"])

    def _deadline(self, step: str) -> datetime:
        """The step's deadline in force for this case: the calendar's, except registration, which a record fault
        reported in time holds open (SeasonCalendar.registration_close_for)."""
        assert self._calendar is not None
        if step == REGISTRATION_CLOSE:
            return self._calendar.registration_close_for(self._fault_reported_at, self._record_corrected_at)
        return self._calendar.deadline(step)

    def _next_deadline(self) -> datetime | None:
        return self._deadline(self._next_step) if self._next_step and self._calendar else None

    def _note(self, note: str) -> None:
        """Something the case must remember that does not change its stage."""
        self._history.append(StageChange(at=workflow.now(), stage=self._stage, note=note))

    def _enter(self, stage: str, next_step: str | None, note: str) -> None:
        self._stage, self._next_step = stage, next_step
        self._history.append(StageChange(at=workflow.now(), stage=stage, note=note))
        updates: list[Any] = [sa.CASE_STAGE.value_set(stage)]
        deadline = self._shown_deadline = self._next_deadline()
        updates.append(sa.NEXT_DEADLINE.value_set(deadline) if deadline else sa.NEXT_DEADLINE.value_unset())
        workflow.upsert_search_attributes(updates)
        self._describe()

    def _describe(self) -> None:
        """The case's current details in the Temporal UI, in words (user metadata, not a command: changing the
        wording needs no patch): the stage and on whom it waits, the deadline in force, how far overdue, and
        whether it was escalated. No personal data."""
        if self._input is None:
            return
        case = self._input
        words = [stage_in_words(self._stage, case.ddo_code, case.department)]
        missed = OVERDUE_STEP.get(self._stage)
        deadline = self._deadline(missed) if missed and self._calendar else self._shown_deadline
        if deadline is not None:
            words.append(f"{'was due' if missed else 'due'} {deadline.astimezone(IST):%d %b %Y %H:%M} IST")
            late = (workflow.now() - deadline).days
            if late >= 1:
                words.append(f"{late} days overdue")
        if self._escalated:
            words.append("escalated")
        if self._attention:
            words.append(self._attention)
        workflow.set_current_details(", ".join(words))

    async def _close(
        self, stage: str, note: str, sms_template: str, params: dict[str, Any] | None = None
    ) -> CaseStatus:
        self._enter(stage, None, note)
        await self._sms(sms_template, params or {}, stage)
        return self.status()

    async def _sms(self, template: str, params: dict[str, Any], dedupe: str) -> None:
        await self._activity(
            Activities.SEND_SMS,
            SmsRequest(
                employee_id=self._employee_id,
                template=template,
                params=params,
                dedupe_key=f"{workflow.info().workflow_id}/{dedupe}",
            ),
        )

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

    async def _close_ineligible(self) -> CaseStatus:
        reasons = self._eligibility.failed_reasons if self._eligibility else []
        return await self._close(Stage.INELIGIBLE, "not eligible: " + " ".join(reasons), "application_ineligible")

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

    async def _activity(self, ref: ActivityRef, arg: Any) -> Any:
        """Run an activity (one of the contract's `Activities`) in its service, traced as part of the action that
        caused it (the API request whose event was last signalled), so one trace id runs from the request to
        the activities."""
        token = otel_context.attach(propagate.extract(self._cause)) if self._cause else None
        try:
            while True:
                try:
                    return await workflow.execute_activity(
                        ref.name,
                        arg,
                        task_queue=ref.task_queue,
                        start_to_close_timeout=ACTIVITY_TIMEOUT,
                        retry_policy=ACTIVITY_RETRY,
                        result_type=ref.result_type,
                    )
                except ActivityError as err:
                    await self._needs_attention(ref.name, err)
        finally:
            if token is not None:
                otel_context.detach(token)

    async def _needs_attention(self, step: str, err: ActivityError) -> None:
        """A step that failed for good, or kept failing, is shown to ops with its reason (stage needs_attention)
        instead of failing the case or retrying unseen; it is tried again when ops ask, and (unless the failure
        was permanent) every ATTENTION_RETRY. Then the case goes back to the stage it was in."""
        cause = err.cause
        permanent = isinstance(cause, ApplicationError) and cause.non_retryable
        detail = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
        reason = f"{step} failed{' for good' if permanent else ' again and again'}: {detail}"
        back_to, next_step, seen = self._stage, self._next_step, self._retry_requests
        self._attention = reason
        self._enter(Stage.NEEDS_ATTENTION, None, reason)
        try:
            await workflow.wait_condition(
                lambda: self._retry_requests > seen, timeout=None if permanent else ATTENTION_RETRY
            )
        except TimeoutError:
            pass
        self._attention = None
        self._enter(back_to, next_step, f"{step} tried again")

    async def _load_calendar(self, acting_on: str | None = None) -> SeasonCalendar:
        """The calendar in force. Cases read the cases worker's copy (a local activity: a wave of timers costs
        one workflow task per case); before acting on a passed deadline (`acting_on`) they ask the owner, so
        a copy a few seconds old can never lapse a case that an extension has just saved."""
        assert self._input is not None
        calendar: SeasonCalendar = await workflow.execute_local_activity(
            Activities.READ_SEASON_CALENDAR.name,
            self._input.season_id,
            start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            result_type=SeasonCalendar,
        )
        if acting_on is None or calendar.deadline(acting_on) > workflow.now():
            return calendar
        owners: SeasonCalendar = await self._activity(Activities.LOAD_SEASON_CALENDAR, self._input.season_id)
        return owners

    async def _wait_until(self, done: Callable[[], bool], step: str, remind: bool = False) -> bool:
        """Wait for `done` until the step's deadline. When a timer fires (at the deadline, or at the daily
        check-in), re-read the calendar: if the deadline has moved, keep waiting under the new date. With
        `remind`, wake 7 days and 1 day before the deadline in force and send the employee a reminder."""
        while True:
            deadline = self._deadline(step)
            now = workflow.now()
            if deadline - now <= timedelta(0):
                return done()
            wake, reminder = deadline, None
            if remind:
                for days in REMINDER_DAYS:
                    key = f"{deadline.isoformat()}/{days}"
                    if deadline - timedelta(days=days) > now and key not in self._reminded:
                        wake, reminder = deadline - timedelta(days=days), (days, key)
                        break
            check_in = now + self._check_in_delay()
            if check_in < wake:
                wake, reminder = check_in, None
            try:
                # also woken when this case's own deadline moves (a report or a correction heard)
                await workflow.wait_condition(
                    lambda was=deadline: done() or self._deadline(step) != was,  # type: ignore[misc]
                    timeout=wake - now,
                )
                if done():
                    return True
                self._show_deadline()
            except TimeoutError:
                self._calendar = await self._load_calendar(acting_on=step)
                if reminder and self._deadline(step) == deadline:
                    self._reminded.add(reminder[1])
                    await self._sms(
                        "registration_reminder",
                        {"days": reminder[0], "closes": _ist(deadline)},
                        f"reminder/{reminder[1]}",
                    )
                self._show_deadline()
                if not done():
                    self._continue_if_long()

    def _show_deadline(self) -> None:
        """Keep the NextDeadline that ops see on the deadline in force."""
        next_deadline = self._next_deadline()
        # with a next step and its calendar there is always a next deadline
        if self._next_step and next_deadline is not None and next_deadline != self._shown_deadline:
            self._shown_deadline = next_deadline
            workflow.upsert_search_attributes([sa.NEXT_DEADLINE.value_set(next_deadline)])
            self._describe()

    @staticmethod
    def _check_in_delay() -> timedelta:
        """Until the next daily look at the calendar, drawn afresh each time (replay draws the same)."""
        return timedelta(hours=workflow.random().uniform(*CHECK_IN_HOURS))

    async def _lapsed_until_reopened(self, stage: str, note: str, reopen_to: str | None = None) -> bool:
        """A lapsed case stays open until the season ends. If the registration deadline is extended, the case
        reopens: at once when the employee acts (registers or submits); when told of the extension (a batch
        signal to lapsed cases, workflows/calendar_fanout.py); or at its daily check-in if that word is lost.
        The last two tell the employee by SMS that registration is open again and until when (back in
        `reopen_to`, if given)."""
        assert self._calendar is not None
        # Acts are counted from here, before any await: one heard while the case is still lapsing (the SMS on
        # its way, the calendar being read) is answered, never taken as already seen.
        seen = self._acts
        self._enter(stage, None, note)
        await self._sms("registration_lapsed", {}, f"{stage}/{self._deadline(REGISTRATION_CLOSE).isoformat()}")
        while True:
            season_end = self._deadline(ORDER_ISSUE)
            timeout = min(season_end - workflow.now(), self._check_in_delay())
            try:
                # by version, not by count: word that arrives while the case is still lapsing is not lost
                await workflow.wait_condition(self._acted_since(seen), timeout=timeout)
            except TimeoutError:
                if workflow.now() < season_end:
                    self._calendar = await self._load_calendar()
                    if workflow.now() < self._deadline(REGISTRATION_CLOSE):
                        await self._reopened_by_extension(reopen_to)
                        return True
                    continue
                self._calendar = await self._load_calendar(acting_on=ORDER_ISSUE)
                if workflow.now() < self._deadline(ORDER_ISSUE):
                    continue
                return False
            acted, seen, told = self._acts > seen, self._acts, self._announced_version
            self._calendar = await self._load_calendar(acting_on=REGISTRATION_CLOSE)
            if not acted:  # told that registration was extended (calendar_fanout)
                if workflow.now() < self._deadline(REGISTRATION_CLOSE):
                    await self._reopened_by_extension(reopen_to)
                    return True
                if self._announced_version == told:  # no newer word came while the calendar was read
                    self._announced_version = min(told, self._calendar.version)  # looked: no loop
                continue
            if workflow.now() < self._deadline(REGISTRATION_CLOSE):
                self._note(
                    f"reopened: registration now closes {_ist(self._deadline(REGISTRATION_CLOSE))} "
                    f"(calendar version {self._calendar.version})"
                )
                return True
            self._note("the employee acted after registration closed, and it has not been extended")

    def _told_of_newer_calendar(self) -> bool:
        return self._calendar is not None and self._announced_version > self._calendar.version

    async def _reopened_by_extension(self, reopen_to: str | None) -> None:
        assert self._calendar is not None
        closes = self._deadline(REGISTRATION_CLOSE)
        note = f"reopened: registration extended, now closes {_ist(closes)} (calendar version {self._calendar.version})"
        if reopen_to:
            self._enter(reopen_to, REGISTRATION_CLOSE, note)
        else:
            self._note(note)
        await self._sms("registration_reopened", {"closes": _ist(closes)}, f"reopened/{closes.isoformat()}")

    def _end_season(self, stage: str) -> CaseStatus:
        self._enter(stage, None, "the season ended with the case lapsed")
        return self.status()

    def _escalation_chain(self, step: str) -> list[tuple[str, str]]:
        """Who a missed step goes to, level by level (DDO -> HoD -> Administrative Secretary)."""
        assert self._input is not None
        department = self._input.department
        if step == DDO_VERIFICATION:
            return [("hod", f"hod:{department}"), ("admin_secretary", f"as:{department}")]
        if step == POST_CREATION:
            return [("admin_secretary", "as:FINANCE")]
        return [("admin_secretary", f"as:{department}")]

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
        """An officer's step: if its deadline passes, the miss is recorded against the officer and the case
        escalates a level at a time, each level given the calendar's escalation window before the next."""
        if await self._wait_until(done, step):
            return
        await self._record_miss(step, officer_role, officer_ref, self._deadline(step))
        self._enter(overdue_stage, None, f"{officer_role} {officer_ref} missed the {step} deadline")
        assert self._calendar is not None
        from_role, from_ref = officer_role, officer_ref
        for level, (role, ref) in enumerate(self._escalation_chain(step), start=1):
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
