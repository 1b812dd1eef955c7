"""What a case hears, event by event, without Temporal: the reducer the case's signal handler applies
(workflows/case_facts.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contract import CaseEvent, EventType
from workflows.case_facts import CaseFacts, hear, reported_before

NOW = datetime(2026, 1, 10, 6, 0, tzinfo=UTC)
SEASON = "2025-26"


def _hear(facts: CaseFacts, kind: str, data: dict[str, Any] | None = None, event_id: str = "e1", holds: bool = True):
    asked: list[bool] = []

    def remedy_holds() -> bool:
        asked.append(True)
        return holds

    heard = hear(facts, CaseEvent(event_id, kind, data or {}), NOW, SEASON, remedy_holds)
    return heard, asked


def test_registration_and_submission_count_as_acts_and_a_redelivery_changes_nothing():
    heard, _ = _hear(CaseFacts(), EventType.OTP_VERIFIED)
    assert heard.facts.registered and heard.facts.acts == 1 and heard.facts.seen_events == {"e1"}
    again, _ = _hear(heard.facts, EventType.OTP_VERIFIED)
    assert again.facts == heard.facts and not again.notes
    submitted, _ = _hear(heard.facts, EventType.APPLICATION_SUBMITTED, {"application_no": "A1"}, "e2")
    assert submitted.facts.application == {"application_no": "A1"} and submitted.facts.acts == 2
    resubmitted, _ = _hear(submitted.facts, EventType.APPLICATION_RESUBMITTED, {"application_no": "A1"}, "e3")
    assert resubmitted.facts.resubmissions == 1 and resubmitted.facts.acts == 2  # not an act that reopens


def test_the_officers_acts():
    facts = _hear(CaseFacts(), EventType.VERIFICATION_DECIDED, {"decision": "verified"})[0].facts
    facts = _hear(facts, EventType.POST_CREATED, {"post_id": "SNP-1"}, "e2")[0].facts
    facts = _hear(facts, EventType.ORDER_APPROVED, {}, "e3")[0].facts
    assert facts.ddo_decision == {"decision": "verified"} and facts.post_id == "SNP-1" and facts.order_approved


def test_a_calendar_change_of_another_season_is_not_this_cases():
    mine = _hear(CaseFacts(), EventType.CALENDAR_CHANGED, {"season_id": SEASON, "version": 3})[0].facts
    assert mine.announced_version == 3
    older = _hear(mine, EventType.CALENDAR_CHANGED, {"season_id": SEASON, "version": 2}, "e2")[0].facts
    assert older.announced_version == 3
    other = _hear(CaseFacts(), EventType.CALENDAR_CHANGED, {"season_id": "2026-27", "version": 9})[0].facts
    assert other.announced_version == 0


def test_the_first_report_of_a_record_fault_holds_and_a_correction_after_it_counts():
    corrected = _hear(CaseFacts(), EventType.RECORD_CORRECTED, {"data_owner": "HKRN", "fields": ["mobile"]})[0]
    assert corrected.facts.record_corrected_at is None  # nothing reported: only noted
    assert corrected.notes == ("service record corrected by HKRN: mobile",)
    first = "2026-01-05T10:00:00+00:00"
    heard, asked = _hear(CaseFacts(), EventType.NO_OTP_REPORTED, {"reported_at": first, "causes": ["x"]})
    assert asked and heard.facts.fault_reported_at == datetime.fromisoformat(first)
    assert heard.notes == ("the employee reported no OTP; the record needs: x",)
    later = _hear(heard.facts, EventType.APPLICATION_BLOCKED, {"reported_at": "2026-01-06T00:00:00+00:00"}, "e2")[0]
    assert later.facts.fault_reported_at == datetime.fromisoformat(first) and not later.notes
    fixed = _hear(later.facts, EventType.RECORD_CORRECTED, {"data_owner": "HKRN", "fields": ["mobile"]}, "e3")[0]
    assert fixed.facts.record_corrected_at == NOW
    added = _hear(later.facts, EventType.ENTRY_ADDED, {"list_name": "post", "code": "RARE"}, "e4")[0]
    assert added.facts.record_corrected_at == NOW and added.notes == ("the missing post RARE was added to the lists",)


def test_a_case_before_the_remedy_patch_ignores_the_report_and_asks_the_patch_only_for_it():
    heard, asked = _hear(CaseFacts(), EventType.NO_OTP_REPORTED, {"reported_at": NOW.isoformat()}, holds=False)
    assert heard.ignored and heard.facts.fault_reported_at is None and asked == [True]
    _, asked = _hear(CaseFacts(), EventType.OTP_VERIFIED)
    assert asked == []  # the patch marker is not asked for other events (a replayed history would differ)


def test_an_unknown_event_is_ignored_but_remembered_as_heard():
    heard, _ = _hear(CaseFacts(), "something.new")
    assert heard.ignored and heard.facts.seen_events == {"e1"}
    entry_without_report, _ = _hear(CaseFacts(), EventType.ENTRY_ADDED, {"list_name": "post", "code": "X"})
    assert entry_without_report.ignored and entry_without_report.facts.record_corrected_at is None


def test_a_case_started_on_an_added_record_holds_from_the_earliest_report():
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)
    facts = reported_before(CaseFacts(fault_reported_at=early), late, NOW)
    assert facts.fault_reported_at == early and facts.record_corrected_at == NOW
    assert reported_before(CaseFacts(), late, None).fault_reported_at == late


def test_an_act_keeps_when_it_was_done_in_its_service():
    done = "2026-01-31T18:20:00+00:00"
    heard = hear(CaseFacts(), CaseEvent("e1", EventType.OTP_VERIFIED, {}, occurred_at=done), NOW, SEASON, lambda: True)
    assert heard.facts.last_act_at == datetime.fromisoformat(done)
    unsaid = hear(heard.facts, CaseEvent("e2", EventType.APPLICATION_SUBMITTED, {}), NOW, SEASON, lambda: True)
    assert unsaid.facts.last_act_at is None  # an event that does not say when: the case's own clock rules
