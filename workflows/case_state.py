"""What a case holds between its steps, and what every step does with it: write its history and stage (with the
search attributes and the words ops read in the Temporal UI), run an activity in a service (parked as
`needs_attention` when it keeps failing), send the employee an SMS, close. The steps themselves are in
workflows/case.py; the waiting on deadlines, the lapses and the officers' steps in the modules between."""

from __future__ import annotations

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
        CaseInput,
        CaseStatus,
        EligibilityDecision,
        MissedDeadline,
        RegistrationHold,
        SeasonCalendar,
        ServiceRecord,
        SmsRequest,
        Stage,
        StageChange,
        stage_in_words,
    )
    from contract import search_attributes as sa

from workflows.case_facts import CaseFacts

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# A step's activity is retried for about 15 minutes (20 attempts, at most a minute apart); if it still fails, or
# fails for good (a non-retryable error: services/common/temporal.py), the case shows `needs_attention` with the
# reason and tries again every ATTENTION_RETRY or when ops ask (`seva retry`). A service that is down delays a
# case, never loses it, and never fails it silently.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1), maximum_attempts=20
)
ATTENTION_RETRY = timedelta(minutes=10)

# The step whose deadline an overdue stage has missed (for the case's details in words).
OVERDUE_STEP = {
    Stage.VERIFICATION_OVERDUE: DDO_VERIFICATION,
    Stage.POST_CREATION_OVERDUE: POST_CREATION,
    Stage.HOD_APPROVAL_OVERDUE: ORDER_ISSUE,
}


class Phase:
    """The steps of a case in order; a case that continued as new resumes at the one it was waiting on, and
    every step before it is done (the one resume rule: workflows/case.py, `run`)."""

    REGISTRATION, APPLICATION, DDO, RETURNED, POST, HOD = 1, 2, 3, 4, 5, 6


def in_ist(moment: datetime) -> str:
    """A moment as people in Haryana read it: converted to IST (the workflow's moments are UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(IST).strftime("%d %b %Y %H:%M IST")


class CaseState:
    """The case's state and the acts every step shares."""

    def __init__(self) -> None:
        self._input: CaseInput | None = None
        self._calendar: SeasonCalendar | None = None
        self._facts = CaseFacts()  # what the services' events said (workflows/case_facts.py)
        self._stage = Stage.AWAITING_REGISTRATION
        self._next_step: str | None = None
        self._history: list[StageChange] = []
        self._missed: list[MissedDeadline] = []
        self._order_no: str | None = None
        self._eligibility: EligibilityDecision | None = None
        self._record: ServiceRecord | None = None
        self._escalated = False
        self._reminded: set[str] = set()  # reminders sent, by deadline and days before it
        self._cause: dict[str, str] = {}  # trace context of the last action heard: what follows is its work
        self._shown_deadline: datetime | None = None  # the NextDeadline search attribute as last set
        self._attention: str | None = None  # why the case waits for ops, while it does
        self._retry_requests = 0  # ops asked to retry a step that needs attention
        self._phase = Phase.REGISTRATION  # the step being waited on, for continuing as new
        self._resubmissions_seen = 0  # resubmissions counted when the case was last returned
        self._runs = 1  # this run and those it continued from

    # ---- reading the state ---------------------------------------------------------------------------------

    @property
    def _employee_id(self) -> str:
        return self._input.employee_id if self._input else ""

    @property
    def _application_no(self) -> str | None:
        application = self._facts.application
        return application.get("application_no") if application else None

    @property
    def _submitted(self) -> str:
        """The application number, in every step after the application came (there is one then)."""
        assert self._facts.application is not None
        return str(self._facts.application["application_no"])

    def _deadline(self, step: str) -> datetime:
        """The step's deadline in force for this case: the calendar's, except registration, which a record fault
        reported in time holds open (SeasonCalendar.registration_close_for)."""
        assert self._calendar is not None
        if step == REGISTRATION_CLOSE:
            return self._calendar.registration_close_for(self._facts.fault_reported_at, self._facts.record_corrected_at)
        return self._calendar.deadline(step)

    def _next_deadline(self) -> datetime | None:
        return self._deadline(self._next_step) if self._next_step and self._calendar else None

    def _hold(self) -> RegistrationHold | None:
        if self._facts.fault_reported_at is None:
            return None
        return RegistrationHold(self._facts.fault_reported_at, self._facts.record_corrected_at)

    def _status(self) -> CaseStatus:
        return CaseStatus(
            employee_id=self._employee_id,
            stage=self._stage,
            application_no=self._application_no,
            post_id=self._facts.post_id,
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
            registration_hold=self._hold(),
        )

    # ---- writing it ----------------------------------------------------------------------------------------

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

    # ---- acting ----------------------------------------------------------------------------------------------

    async def _close(
        self, stage: str, note: str, sms_template: str, params: dict[str, Any] | None = None
    ) -> CaseStatus:
        self._enter(stage, None, note)
        await self._sms(sms_template, params or {}, stage)
        return self._status()

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
