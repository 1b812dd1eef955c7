"""The season simulator's judge: what the system answered, held against the calendar published to employees at
that moment, read the way the notice puts it. It never calls the rule the system enforces
(contract.SeasonCalendar.registration_close_for), so a wrong hold rule cannot be scored right by both; and it
counts the system's faults both ways: an employee let in after their deadline, and one refused before it.

All times are seconds from the portal's opening, on the simulator's clock."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field

# the system's answer to an application that came after registration closed (services/applications/service.py)
CLOSED_CODES = ("registration_closed",)
# a request sent this close to a deadline may be answered either way (it is in flight when the date passes);
# the simulator's own times of a report and a correction trail the system's by about as much
TOLERANCE_SECONDS = 1.0


@dataclass(frozen=True)
class Published:
    """The public calendar (GET /calendar) as the simulator read it at `at`."""

    at: float
    close: float  # registration closes
    ddo: float  # DDO verification deadline
    grace: float  # seconds after a record's correction that a held registration stays open


@dataclass
class PublishedCalendar:
    """Every reading of the public calendar, in order; a moment's calendar is the last one read before it."""

    readings: list[Published] = field(default_factory=list)

    def read(self, reading: Published) -> None:
        self.readings.append(reading)

    def at(self, moment: float) -> Published:
        if not self.readings:
            raise ValueError("the public calendar was never read")
        i = bisect.bisect_right([r.at for r in self.readings], moment)
        return self.readings[max(i - 1, 0)]


def deadline_in_force(
    calendar: PublishedCalendar, moment: float, reported: float | None, corrected: float | None
) -> float:
    """The notice's words (DOMAIN.md, the hold for a record fault): registration closes on the published date; an
    employee who asked "Why no OTP?" (or was refused for an entry missing from the lists) before it closed, and
    was told the fault is on the record, may register until the record is corrected and the published grace after
    it, and never after the published DDO verification date."""
    now = calendar.at(moment)
    if reported is None or reported > calendar.at(reported).close:
        return now.close
    held = now.ddo if corrected is None else min(now.ddo, corrected + now.grace)
    return max(now.close, held)


@dataclass(frozen=True)
class Answer:
    """One application attempt: when it was sent and answered, the status and code, and the submission time the
    system gave (201's submitted_at), if it gave one."""

    sent: float
    received: float
    status: int
    code: str = ""
    submitted_at: float | None = None


@dataclass
class Verdict:
    submitted_at: float | None = None  # when the system took the application (its time, or the attempt's)
    in_time: bool = False
    let_in_late: bool = False  # the system took it after the employee's deadline: no one may be let in late
    refused_in_time: list[float] = field(default_factory=list)  # refused as closed, sent before the deadline


def judge(answers: list[Answer], deadline_at: Callable[[float], float]) -> Verdict:
    """Judge one employee's application attempts. `deadline_at(t)` is their deadline in force at t (it moves with
    the published calendar and their hold)."""
    verdict = Verdict()
    for a in answers:
        if a.status == 422 and a.code in CLOSED_CODES and a.sent < deadline_at(a.sent) - TOLERANCE_SECONDS:
            verdict.refused_in_time.append(a.sent)
        accepted = a.status == 201 or (a.status == 409 and a.code == "application_exists")
        if accepted and verdict.submitted_at is None:
            verdict.submitted_at = a.submitted_at if a.submitted_at is not None else a.sent
    if verdict.submitted_at is not None:
        deadline = deadline_at(verdict.submitted_at)
        verdict.in_time = verdict.submitted_at <= deadline
        verdict.let_in_late = verdict.submitted_at > deadline + TOLERANCE_SECONDS
    return verdict


@dataclass(frozen=True)
class AuditCell:
    employees_answer: float
    strangers_say_mine: float
    recall: float
    precision: float
    caught: int
    failed: int
    flagged: int


def audit_cell(
    employees_answer: float, strangers_say_mine: float, failed: set[str], came: set[str], flagged: set[str]
) -> AuditCell:
    """The audit's figures against what happened: of the employees who came and got no OTP (the simulator's own
    record), how many it had flagged (recall); of those it flagged who came, how many did fail (precision)."""
    flagged_came, caught = came & flagged, failed & flagged
    return AuditCell(
        employees_answer,
        strangers_say_mine,
        len(caught) / max(len(failed), 1),
        len(caught) / max(len(flagged_came), 1),
        len(caught),
        len(failed),
        len(flagged_came),
    )
