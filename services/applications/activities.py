"""Activities the case workflow runs in the applications service's process (task queue `applications`)."""
from __future__ import annotations

from temporalio import activity

from services.common.runtime import ServiceContext
from workflows.contracts import SeasonCalendar

from .service import calendar_in_force


def activities(ctx: ServiceContext) -> list:
    @activity.defn(name="load_season_calendar")
    async def load_season_calendar(season_id: str) -> SeasonCalendar:
        """The calendar in force now: read each time a case's timer fires, so extensions reach every case."""
        async with ctx.pool.acquire() as conn:
            return await calendar_in_force(conn, season_id)

    return [load_season_calendar]
