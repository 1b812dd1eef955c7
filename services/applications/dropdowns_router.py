"""Drop-down lists (department, district, post, DDO). The real portal's lists missed entries; here the
data owners add one through the API and it is in the form at once, no redeploy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from services.common.auth import ADMINISTRATOR, DATA_OFFICER, Principal, require_roles
from services.common.runtime import ApplicationsContext, context

from . import dropdowns

router = APIRouter(prefix="/master", tags=["drop-down lists"])


class Entry(BaseModel):
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9\-]{1,40}$")
    name: str = Field(min_length=2, max_length=200)
    name_hi: str | None = Field(None, min_length=2, max_length=200, description="the name in Hindi")


class District(BaseModel):
    name: str
    name_hi: str | None = Field(None, description="the name in Hindi")


class DdoEntry(BaseModel):
    ddo_code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9\-]{1,60}$")
    department_code: str
    district: str
    office_name: str = Field(min_length=2, max_length=200)
    office_name_hi: str | None = Field(None, min_length=2, max_length=200, description="the office's name in Hindi")
    phone: str | None = Field(
        None, pattern=r"^[0-9][0-9 \-]{5,19}$", description="the office's telephone, shown to its employees"
    )


class MissingEntry(BaseModel):
    list_name: str
    code: str
    employees: int = Field(description="employees whose applications were refused for want of it")
    first_reported: datetime


@router.get("/departments", response_model=list[Entry])
async def departments(ctx: ApplicationsContext = Depends(context)) -> list[dict[str, Any]]:
    return await dropdowns.entries(ctx, "department")


@router.get("/districts", response_model=list[str])
async def districts(ctx: ApplicationsContext = Depends(context)) -> list[str]:
    return await dropdowns.districts(ctx)


@router.get("/district-names", response_model=list[District])
async def district_names(ctx: ApplicationsContext = Depends(context)) -> list[dict[str, Any]]:
    """The districts with their Hindi names (GET /districts gives the bare names, as it always has)."""
    return await dropdowns.district_names(ctx)


@router.get("/posts", response_model=list[Entry])
async def posts(ctx: ApplicationsContext = Depends(context)) -> list[dict[str, Any]]:
    return await dropdowns.entries(ctx, "post")


@router.get("/ddos", response_model=list[DdoEntry])
async def ddos(
    department_code: str = Query(...), district: str = Query(...), ctx: ApplicationsContext = Depends(context)
) -> list[dict[str, Any]]:
    """The DDOs of one department in one district: the only DDOs the form accepts for that pair."""
    return await dropdowns.ddos(ctx, department_code, district)


@router.get("/missing", response_model=list[MissingEntry])
async def missing_entries(
    ctx: ApplicationsContext = Depends(context),
    officer: Principal = Depends(require_roles(DATA_OFFICER, ADMINISTRATOR)),
) -> list[dict[str, Any]]:
    """Entries that applications were refused for, not yet added: add them (POST /master/posts, /ddos,
    /departments) and each employee waiting is told by SMS."""
    return await dropdowns.missing(ctx)


@router.post("/posts", status_code=201, response_model=Entry)
async def add_post(
    body: Entry,
    ctx: ApplicationsContext = Depends(context),
    officer: Principal = Depends(require_roles(DATA_OFFICER, ADMINISTRATOR)),
) -> Entry:
    await dropdowns.add_post(ctx, officer, body.code, body.name, body.name_hi)
    return body


@router.post("/departments", status_code=201, response_model=Entry)
async def add_department(
    body: Entry,
    ctx: ApplicationsContext = Depends(context),
    officer: Principal = Depends(require_roles(DATA_OFFICER, ADMINISTRATOR)),
) -> Entry:
    await dropdowns.add_department(ctx, officer, body.code, body.name, body.name_hi)
    return body


@router.post("/ddos", status_code=201, response_model=DdoEntry)
async def add_ddo(
    body: DdoEntry,
    ctx: ApplicationsContext = Depends(context),
    officer: Principal = Depends(require_roles(DATA_OFFICER, ADMINISTRATOR)),
) -> DdoEntry:
    await dropdowns.add_ddo(
        ctx,
        officer,
        body.ddo_code,
        body.department_code,
        body.district,
        body.office_name,
        body.office_name_hi,
        body.phone,
    )
    return body
