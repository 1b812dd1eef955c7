"""Activities the case workflow runs in the applications service's process (task queue `applications`)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from temporalio import activity

from contract import IST, Activities, EligibilityDecision, EligibilityRequest, SeasonCalendar
from services.common.runtime import ApplicationsContext

from .calendar import calendar_in_force
from .eligibility import Rule, evaluate


def activities(ctx: ApplicationsContext) -> list[Any]:
    @activity.defn(name=Activities.LOAD_SEASON_CALENDAR.name)
    async def load_season_calendar(season_id: str) -> SeasonCalendar:
        """The calendar in force now: read each time a case's timer fires, so extensions reach every case."""
        async with ctx.pool.acquire() as conn:
            return await calendar_in_force(conn, season_id)

    @activity.defn(name=Activities.DECIDE_ELIGIBILITY.name)
    async def decide_eligibility(req: EligibilityRequest) -> EligibilityDecision:
        """Every enabled rule with its reason; stored with the application (a retry stores the same)."""
        async with ctx.pool.acquire() as conn, conn.transaction():
            rules = [
                Rule(r["code"], r["enabled"], r["params"], r["description"])
                for r in await conn.fetch(
                    "SELECT code, enabled, params, description FROM applications.eligibility_rule ORDER BY ordinal"
                )
            ]
            results = evaluate(rules, req.record, datetime.now(IST).date())
            decision = EligibilityDecision(req.application_no, all(r.passed for r in results), results)
            await conn.execute(
                "INSERT INTO applications.eligibility_decision (application_no, eligible, results) VALUES ($1, $2, $3) "
                "ON CONFLICT (application_no) DO UPDATE SET eligible = excluded.eligible, results = excluded.results, "
                "decided_at = now()",
                req.application_no,
                decision.eligible,
                [asdict(r) for r in results],
            )
        return decision

    return [load_season_calendar, decide_eligibility]
