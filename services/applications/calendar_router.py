"""Deadline extensions over HTTP: the administrator moves a deadline; anyone reads the versions. The rules
(a new version, never into the past, in the steps' order) live in calendar.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from services.common.auth import ADMINISTRATOR, Principal, require_roles
from services.common.runtime import ApplicationsContext, client_addr, context

from . import calendar
from .schemas import CalendarVersion, Change

router = APIRouter(prefix="/calendar", tags=["deadline calendar"])


@router.post("/changes", status_code=201, response_model=CalendarVersion)
async def change_deadline(
    body: Change,
    request: Request,
    season_id: str | None = None,
    ctx: ApplicationsContext = Depends(context),
    admin: Principal = Depends(require_roles(ADMINISTRATOR)),
) -> dict[str, Any]:
    """Extend (or bring forward) one deadline of the season; every open case runs under the new version."""
    return await calendar.change(ctx, admin, season_id or ctx.settings.season_id, body, client_addr(request))


@router.get("/versions", response_model=list[CalendarVersion])
async def versions(season_id: str | None = None, ctx: ApplicationsContext = Depends(context)) -> list[dict[str, Any]]:
    """Every version of the season's calendar: who changed what, when and why."""
    return await calendar.versions(ctx, season_id or ctx.settings.season_id)
