"""The rules about deadlines: a case waits for a step until its deadline in force, re-reading the calendar
when a timer fires (so an extension stored as data takes effect without a redeploy or a signal per case),
reminds the employee before registration closes, and looks at the calendar about once a day meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contract import Activities, SeasonCalendar
    from contract import search_attributes as sa

from workflows.case_state import ACTIVITY_RETRY, CaseState, in_ist

REMINDER_DAYS = (7, 1)  # SMS reminders this many days before registration closes
# A waiting case looks at the calendar about once a day (12 to 36 hours, drawn per wake-up so that 1,20,000
# cases imported in one evening spread over the day: about 1.4 wake-ups a second), so a deadline brought
# forward is kept and the NextDeadline that ops see follows an extension made weeks ahead.
CHECK_IN_HOURS = (12.0, 36.0)
LOCAL_ACTIVITY_TIMEOUT = timedelta(seconds=10)


def next_wake(
    deadline: datetime, now: datetime, check_in: datetime, remind: bool, reminded: set[str]
) -> tuple[datetime, tuple[int, str] | None]:
    """When a waiting case wakes next, and the reminder it sends then (days before, its key), if any: the
    deadline, or the first reminder not yet sent still ahead, or the daily check-in if that comes first."""
    wake, reminder = deadline, None
    if remind:
        for days in REMINDER_DAYS:
            key = f"{deadline.isoformat()}/{days}"
            if deadline - timedelta(days=days) > now and key not in reminded:
                wake, reminder = deadline - timedelta(days=days), (days, key)
                break
    if check_in < wake:
        return check_in, None
    return wake, reminder


class CaseWaiting(CaseState):
    """Waiting on a step until its deadline in force."""

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
            wake, reminder = next_wake(deadline, now, now + self._check_in_delay(), remind, self._reminded)
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
                        {"days": reminder[0], "closes": in_ist(deadline)},
                        f"reminder/{reminder[1]}",
                    )
                self._show_deadline()
                if not done():
                    self._continue_if_long()

    def _continue_if_long(self) -> None:
        """At a safe point, a long run continues as new (workflows/case.py)."""
        raise NotImplementedError

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
