"""What a case has heard from the services, and how one event changes it: a pure reducer (event + facts ->
facts, and the notes the case keeps), so the handling of every event type is read, and unit-tested, apart
from Temporal (tests/unit/test_case_facts.py). The workflow applies it in its signal handler and waits on the
facts; nothing here may await, read a clock or draw a random number: the moment is given."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():  # the contract's types are the host's, in the sandbox too
    from contract import CaseEvent, EventType


@dataclass(frozen=True)
class CaseFacts:
    """The services' acts the case has heard (each event once, by its id)."""

    seen_events: frozenset[str] = frozenset()
    registered: bool = False
    application: dict[str, Any] | None = None  # the application as last submitted or resubmitted
    resubmissions: int = 0
    ddo_decision: dict[str, Any] | None = None  # the DDO's latest decision (cleared when the case is returned)
    post_id: str | None = None
    order_approved: bool = False
    acts: int = 0  # registrations and submissions heard, for reopening a lapsed case
    last_act_at: datetime | None = None  # when the latest of them happened in its service (None: not said)
    announced_version: int = 0  # the newest calendar version a registration extension was announced in
    # the first report of a fault only others can mend (no OTP, an entry missing from the lists), and the data
    # owner's latest correction after it: together they hold registration open (SeasonCalendar)
    fault_reported_at: datetime | None = None
    record_corrected_at: datetime | None = None


@dataclass(frozen=True)
class Heard:
    facts: CaseFacts
    notes: tuple[str, ...] = ()  # what the case writes in its history, at the moment it heard the event
    ignored: bool = False  # an event type the case does not act on (logged by the workflow)


def hear(
    facts: CaseFacts, event: CaseEvent, now: datetime, season_id: str | None, remedy_holds: Callable[[], bool]
) -> Heard:
    """The facts after `event`, heard at `now` by a case of `season_id`. `remedy_holds` says whether the case
    runs with the remedy's hold (a patch: asked only for the events it governs, as the workflow first asked)."""
    if event.event_id in facts.seen_events:
        return Heard(facts)
    facts = dataclasses.replace(facts, seen_events=facts.seen_events | {event.event_id})
    data, kind = event.data, event.type
    change: dict[str, Any] = {}
    notes: list[str] = []
    act_at = _moment(event.occurred_at)
    if kind == EventType.OTP_VERIFIED:
        change = {"registered": True, "acts": facts.acts + 1, "last_act_at": act_at}
    elif kind == EventType.APPLICATION_SUBMITTED:
        change = {"application": dict(data), "acts": facts.acts + 1, "last_act_at": act_at}
    elif kind == EventType.APPLICATION_RESUBMITTED:
        change = {"application": dict(data), "resubmissions": facts.resubmissions + 1}
    elif kind == EventType.VERIFICATION_DECIDED:
        change = {"ddo_decision": dict(data)}
    elif kind == EventType.POST_CREATED:
        change = {"post_id": data["post_id"]}
    elif kind == EventType.ORDER_APPROVED:
        change = {"order_approved": True}
    elif kind == EventType.CERTIFICATE_ISSUED:
        notes.append(f"verification certificate issued by {data.get('issued_by')} ({data.get('issuer_role')})")
    elif kind == EventType.PHYSICAL_ORDER_VOIDED:
        notes.append(f"physical order {data.get('reference')} declared void: this case is processed on the portal")
    elif kind == EventType.CALENDAR_CHANGED:
        if season_id and data.get("season_id") == season_id:  # the fan-out job is not per season
            change = {"announced_version": max(facts.announced_version, int(data.get("version") or 0))}
    elif kind == EventType.RECORD_CORRECTED:
        notes.append(f"service record corrected by {data.get('data_owner')}: " + ", ".join(data.get("fields") or []))
        if facts.fault_reported_at is not None:  # a report is heard only under the remedy's hold
            change = {"record_corrected_at": now}
    elif kind == EventType.ENTRY_ADDED and facts.fault_reported_at is not None:
        notes.append(f"the missing {data.get('list_name')} {data.get('code')} was added to the lists")
        change = {"record_corrected_at": now}
    elif kind in (EventType.NO_OTP_REPORTED, EventType.APPLICATION_BLOCKED) and remedy_holds():
        reported = datetime.fromisoformat(str(data["reported_at"]))
        if facts.fault_reported_at is None:  # the first report is the one that counts (and is noted)
            causes = ", ".join(data.get("causes") or [])
            notes.append(
                f"the employee reported no OTP; the record needs: {causes}"
                if kind == EventType.NO_OTP_REPORTED
                else f"the employee's application was refused for an entry missing from the lists: {causes}"
            )
        if facts.fault_reported_at is None or reported < facts.fault_reported_at:
            change = {"fault_reported_at": reported}
    else:
        return Heard(facts, ignored=True)
    return Heard(dataclasses.replace(facts, **change), tuple(notes))


def _moment(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def reported_before(facts: CaseFacts, reported: datetime, corrected: datetime | None) -> CaseFacts:
    """A case started on a record added for a person who reported in time: registration is held for them (the
    earlier report counts), corrected when the record was added."""
    if facts.fault_reported_at is None or reported < facts.fault_reported_at:
        facts = dataclasses.replace(facts, fault_reported_at=reported)
    return dataclasses.replace(facts, record_corrected_at=corrected)
