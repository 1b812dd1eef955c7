from datetime import UTC, datetime

from contract import DEADLINE_STEPS, OFFICIAL_2025_26, shifted


def test_official_season_dates():
    assert OFFICIAL_2025_26.registration_open.date().isoformat() == "2025-12-25"
    assert [OFFICIAL_2025_26.deadline(s).date().isoformat() for s in DEADLINE_STEPS] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
    ]


def test_a_shifted_season_keeps_every_gap():
    opens = datetime(2027, 1, 1, tzinfo=UTC)
    rehearsal = shifted(OFFICIAL_2025_26, "rehearsal", opens)
    assert rehearsal.registration_open == opens and rehearsal.season_id == "rehearsal"
    for step in DEADLINE_STEPS:
        assert (
            rehearsal.deadline(step) - rehearsal.registration_open
            == OFFICIAL_2025_26.deadline(step) - OFFICIAL_2025_26.registration_open
        )
