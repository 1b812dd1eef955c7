"""Deadline extensions: a new version of the season's calendar with who, when and why. A deadline may not
move into the past or before an earlier step (nor past a later one). Cases read the calendar in force at
each of their decision points, so a new version reaches every open case without a signal per case."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from contract import DEADLINE_STEPS, EventType, SeasonCalendar
from services.common import audit
from services.common.auth import ADMINISTRATOR, Principal, require_roles
from services.common.errors import ApiError
from services.common.events import publish
from services.common.runtime import ServiceContext, client_addr, context

from .calendar import CALENDAR_COLUMNS, calendar_in_force, store_version

router = APIRouter(prefix="/calendar", tags=["deadline calendar"])
ORDER = ("registration_open", *DEADLINE_STEPS)
LABELS = {
    "registration_open": "registration opening",
    "registration_close": "registration close",
    "ddo_verification": "DDO verification",
    "post_creation": "supernumerary post creation",
    "order_issue": "order issue",
}


class Change(BaseModel):
    step: Literal["registration_close", "ddo_verification", "post_creation", "order_issue"]
    new_deadline: datetime = Field(description="with its time zone, e.g. 2026-02-20T23:59:59+05:30")
    reason: str = Field(min_length=5, max_length=500)


@dataclass(kw_only=True)
class CalendarVersion(SeasonCalendar):
    changed_by: str
    reason: str
    changed_at: datetime


async def change(ctx: ServiceContext, admin: Principal, season_id: str, body: Change, from_addr: str) -> dict:
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
        row = await store_version(conn, replace(current, **{body.step: body.new_deadline}), admin.subject, body.reason)
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


@router.post("/changes", status_code=201, response_model=CalendarVersion)
async def change_deadline(
    body: Change,
    request: Request,
    season_id: str | None = None,
    ctx: ServiceContext = Depends(context),
    admin: Principal = Depends(require_roles(ADMINISTRATOR)),
):
    """Extend (or bring forward) one deadline of the season; every open case runs under the new version."""
    return await change(ctx, admin, season_id or ctx.settings.season_id, body, client_addr(request))


@router.get("/versions", response_model=list[CalendarVersion])
async def versions(season_id: str | None = None, ctx: ServiceContext = Depends(context)):
    """Every version of the season's calendar: who changed what, when and why."""
    rows = await ctx.pool.fetch(
        f"SELECT {CALENDAR_COLUMNS}, changed_by, reason, changed_at FROM "
        "applications.season_calendar WHERE season_id = $1 ORDER BY version",
        season_id or ctx.settings.season_id,
    )
    return [dict(r) for r in rows]
