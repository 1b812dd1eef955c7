"""The deadline calendar of a season: data, never constants in code."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from contract import IST, SeasonCalendar


def _ist_end_of_day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=IST)


# The 2025-26 season as first announced (version 1). The state later extended registration to
# 20 Feb 2026; that is version 2, seeded beside it as data.
OFFICIAL_2025_26 = SeasonCalendar(
    season_id="2025-26",
    version=1,
    registration_open=datetime(2025, 12, 25, 0, 0, tzinfo=IST),
    registration_close=_ist_end_of_day(2026, 1, 31),
    ddo_verification=_ist_end_of_day(2026, 2, 28),
    post_creation=_ist_end_of_day(2026, 3, 31),
    order_issue=_ist_end_of_day(2026, 4, 30),
)


def shifted(calendar: SeasonCalendar, season_id: str, opens_at: datetime) -> SeasonCalendar:
    """The same season with every date moved so that registration opens at `opens_at`: a rehearsal
    season for the local stack and the tests, whose clocks cannot go back to 2025."""
    delta = opens_at - calendar.registration_open
    return SeasonCalendar(
        season_id=season_id,
        version=calendar.version,
        registration_open=calendar.registration_open + delta,
        registration_close=calendar.registration_close + delta,
        ddo_verification=calendar.ddo_verification + delta,
        post_creation=calendar.post_creation + delta,
        order_issue=calendar.order_issue + delta,
    )


CALENDAR_COLUMNS = (
    "season_id, version, registration_open, registration_close, ddo_verification, post_creation, "
    "order_issue, escalation_days"
)


async def calendar_in_force(conn: asyncpg.Connection, season_id: str) -> SeasonCalendar:
    row = await conn.fetchrow(
        f"SELECT {CALENDAR_COLUMNS} FROM applications.season_calendar WHERE season_id = $1 "
        "ORDER BY version DESC LIMIT 1",
        season_id,
    )
    if row is None:
        raise LookupError(f"no calendar for season {season_id}")
    return SeasonCalendar(**dict(row))


async def store_version(conn: asyncpg.Connection, calendar: SeasonCalendar, changed_by: str, reason: str) -> dict:
    """Store `calendar` as the season's next version (in the caller's transaction); the row as stored."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", calendar.season_id)
    version = await conn.fetchval(
        "SELECT coalesce(max(version), 0) + 1 FROM applications.season_calendar WHERE season_id = $1",
        calendar.season_id,
    )
    row = await conn.fetchrow(
        "INSERT INTO applications.season_calendar (season_id, version, registration_open, registration_close, "
        "ddo_verification, post_creation, order_issue, escalation_days, changed_by, reason) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING *",
        calendar.season_id,
        version,
        calendar.registration_open,
        calendar.registration_close,
        calendar.ddo_verification,
        calendar.post_creation,
        calendar.order_issue,
        calendar.escalation_days,
        changed_by,
        reason,
    )
    return dict(row)
