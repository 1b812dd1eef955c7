"""The deadline calendar of a season: data, never constants in code. A change is a new version with who,
when and why; a deadline may not move into the past or before an earlier step (nor past a later one). Cases
read the calendar in force at each of their decision points, so a new version reaches every open case without
a signal per case."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from contract import DEADLINE_STEPS, EventType, SeasonCalendar
from services.common import audit
from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.events import publish
from services.common.runtime import ApplicationsContext

if TYPE_CHECKING:
    from .schemas import Change


CALENDAR_COLUMNS = (
    "season_id, version, registration_open, registration_close, ddo_verification, post_creation, "
    "order_issue, escalation_days, remedy_grace_days"
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


async def store_version(
    conn: asyncpg.Connection, calendar: SeasonCalendar, changed_by: str, reason: str
) -> dict[str, Any]:
    """Store `calendar` as the season's next version (in the caller's transaction); the row as stored."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", calendar.season_id)
    version = await conn.fetchval(
        "SELECT coalesce(max(version), 0) + 1 FROM applications.season_calendar WHERE season_id = $1",
        calendar.season_id,
    )
    row = await conn.fetchrow(
        "INSERT INTO applications.season_calendar (season_id, version, registration_open, registration_close, "
        "ddo_verification, post_creation, order_issue, escalation_days, remedy_grace_days, changed_by, reason) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING *",
        calendar.season_id,
        version,
        calendar.registration_open,
        calendar.registration_close,
        calendar.ddo_verification,
        calendar.post_creation,
        calendar.order_issue,
        calendar.escalation_days,
        calendar.remedy_grace_days,
        changed_by,
        reason,
    )
    return dict(row)


# ---- changing the calendar: a new version with who, when and why ----------------------------

ORDER = ("registration_open", *DEADLINE_STEPS)
LABELS = {
    "registration_open": "registration opening",
    "registration_close": "registration close",
    "ddo_verification": "DDO verification",
    "post_creation": "supernumerary post creation",
    "order_issue": "order issue",
}


async def change(
    ctx: ApplicationsContext, admin: Principal, season_id: str, body: Change, from_addr: str
) -> dict[str, Any]:
    if body.new_deadline.tzinfo is None:
        raise ApiError(422, "timezone_required", "Give the new deadline with its time zone, e.g. +05:30 for IST.")
    async with ctx.pool.acquire() as conn, conn.transaction():
        # the season's lock first: two changes at once must not both build on the same version
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", season_id)
        try:
            current = await calendar_in_force(conn, season_id)
        except LookupError:
            raise ApiError(404, "season_not_found", f"There is no calendar for season {season_id}.") from None
        now = datetime.now(UTC)
        if body.new_deadline <= now:
            raise ApiError(
                422,
                "deadline_in_past",
                f"The new {LABELS[body.step]} deadline {body.new_deadline:%d %b %Y %H:%M %z} is not in the future.",
            )
        i = ORDER.index(body.step)
        before, after = ORDER[i - 1], ORDER[i + 1] if i + 1 < len(ORDER) else None
        if body.new_deadline <= current.deadline(before):
            raise ApiError(
                422,
                "deadline_before_earlier_step",
                f"The {LABELS[body.step]} deadline must come after the {LABELS[before]} "
                f"({current.deadline(before):%d %b %Y %H:%M %z}).",
            )
        if after and body.new_deadline >= current.deadline(after):
            raise ApiError(
                422,
                "deadline_after_later_step",
                f"The {LABELS[body.step]} deadline must come before the {LABELS[after]} "
                f"({current.deadline(after):%d %b %Y %H:%M %z}); move that one first.",
            )
        changed: SeasonCalendar = replace(current, **{body.step: body.new_deadline})  # type: ignore[arg-type]  # a date field by name
        row = await store_version(conn, changed, admin.subject, body.reason)
        await audit.append(
            conn,
            "applications",
            admin,
            "calendar.change",
            f"{season_id}/{body.step}",
            from_addr=from_addr,
            before=current.deadline(body.step).isoformat(),
            after=body.new_deadline.isoformat(),
            details={"version": row["version"], "reason": body.reason},
        )
        await publish(
            conn,
            "applications",
            EventType.CALENDAR_CHANGED,
            f"season:{season_id}",
            {
                "season_id": season_id,
                "version": row["version"],
                "step": body.step,
                "new_deadline": body.new_deadline.isoformat(),
            },
        )  # the cases worker drops its copy
    return row


async def versions(ctx: ApplicationsContext, season_id: str) -> list[dict[str, Any]]:
    """Every version of the season's calendar: who changed what, when and why."""
    rows = await ctx.pool.fetch(
        f"SELECT {CALENDAR_COLUMNS}, changed_by, reason, changed_at FROM "
        "applications.season_calendar WHERE season_id = $1 ORDER BY version",
        season_id,
    )
    return [dict(r) for r in rows]
