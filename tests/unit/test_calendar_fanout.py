"""Which calendar changes start the batch job that tells lapsed cases, and what the job is called.
(The job itself runs on the real Temporal server in tests/e2e/test_lapsed_reopen.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from workflows.calendar_fanout import LAPSED_CASES_QUERY, batch_job_id, reopens_registration

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def change(step: str, new_deadline: datetime | None) -> dict[str, Any]:
    return {
        "season_id": "2025-26",
        "version": 3,
        "step": step,
        "new_deadline": new_deadline.isoformat() if new_deadline else None,
    }


def test_only_a_registration_close_moved_into_the_future_tells_lapsed_cases():
    assert reopens_registration(change("registration_close", NOW + timedelta(days=20)), NOW)
    assert not reopens_registration(change("registration_close", NOW - timedelta(minutes=1)), NOW)
    assert not reopens_registration(change("ddo_verification", NOW + timedelta(days=20)), NOW)
    assert not reopens_registration(change("registration_close", None), NOW)
    ist = timezone(timedelta(hours=5, minutes=30))
    assert reopens_registration(change("registration_close", datetime(2026, 2, 20, 23, 59, 59, tzinfo=ist)), NOW)


def test_one_job_per_calendar_version_named_without_personal_data():
    assert batch_job_id(change("registration_close", NOW)) == "registration-extended-2025-26-v3"
    assert "lapsed_unregistered" in LAPSED_CASES_QUERY and "lapsed_no_application" in LAPSED_CASES_QUERY
    assert "lapsed_not_resubmitted" not in LAPSED_CASES_QUERY  # closed for good: an extension does not reopen it
