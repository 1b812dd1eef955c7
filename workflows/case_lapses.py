"""The rules about lapses: a case that missed registration (or its application) stays open until the season
ends, and reopens when the state extends registration: at once when the employee acts, when told of the
extension (workflows/calendar_fanout.py), or at its daily look at the calendar if that word was lost."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contract import ORDER_ISSUE, REGISTRATION_CLOSE, CaseStatus

from workflows.case_deadlines import CaseWaiting
from workflows.case_state import in_ist

# An act (a registration, an application) heard after registration closed but done before it counts: the case
# reopens and goes on. Under a surge the events reach the case minutes late, and a season of 10,000 lapsed 2,163
# employees whose applications the system had taken in time.
ACT_COUNTS_WHEN_DONE = "act-counts-when-done"


class CaseLapses(CaseWaiting):
    """Lapsing, waiting lapsed, and reopening."""

    def _acted_since(self, seen: int) -> Callable[[], bool]:
        """Someone acted on the lapsed case, or word came of a newer calendar."""
        return lambda: self._facts.acts > seen or self._told_of_newer_calendar()

    def _told_of_newer_calendar(self) -> bool:
        return self._calendar is not None and self._facts.announced_version > self._calendar.version

    async def _lapsed_until_reopened(self, stage: str, note: str, reopen_to: str | None = None) -> bool:
        """Lapse into `stage`, and wait: True when registration reopens (back in `reopen_to`, if given, with the
        employee told by SMS until when), False when the season ends first."""
        assert self._calendar is not None
        # Acts are counted from here, before any await: one heard while the case is still lapsing (the SMS on
        # its way, the calendar being read) is answered, never taken as already seen.
        seen = self._facts.acts
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
            acted, seen, told = self._facts.acts > seen, self._facts.acts, self._facts.announced_version
            act_at = self._facts.last_act_at
            # asked at the start of the task the act woke (before the calendar is read)
            counts_when_done = acted and workflow.patched(ACT_COUNTS_WHEN_DONE)
            self._calendar = await self._load_calendar(acting_on=REGISTRATION_CLOSE)
            if not acted:  # told that registration was extended (calendar_fanout)
                if workflow.now() < self._deadline(REGISTRATION_CLOSE):
                    await self._reopened_by_extension(reopen_to)
                    return True
                if self._facts.announced_version == told:  # no newer word came while the calendar was read
                    looked = min(told, self._calendar.version)  # no loop
                    self._facts = dataclasses.replace(self._facts, announced_version=looked)
                continue
            if workflow.now() < self._deadline(REGISTRATION_CLOSE):
                self._note(
                    f"reopened: registration now closes {in_ist(self._deadline(REGISTRATION_CLOSE))} "
                    f"(calendar version {self._calendar.version})"
                )
                return True
            if counts_when_done and act_at is not None and act_at <= self._deadline(REGISTRATION_CLOSE):
                self._note(
                    f"reopened: the employee acted at {in_ist(act_at)}, before registration closed "
                    f"({in_ist(self._deadline(REGISTRATION_CLOSE))}); the case heard of it late"
                )
                return True
            self._note("the employee acted after registration closed, and it has not been extended")

    async def _reopened_by_extension(self, reopen_to: str | None) -> None:
        assert self._calendar is not None
        closes = self._deadline(REGISTRATION_CLOSE)
        note = (
            f"reopened: registration extended, now closes {in_ist(closes)} (calendar version {self._calendar.version})"
        )
        if reopen_to:
            self._enter(reopen_to, REGISTRATION_CLOSE, note)
        else:
            self._note(note)
        await self._sms("registration_reopened", {"closes": in_ist(closes)}, f"reopened/{closes.isoformat()}")

    def _end_season(self, stage: str) -> CaseStatus:
        self._enter(stage, None, "the season ended with the case lapsed")
        return self._status()
