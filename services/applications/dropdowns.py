"""Drop-down lists (department, district, post, DDO). The real portal's lists missed entries; here the
data owners add one through the API and it is in the form at once, no redeploy."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from services.common.auth import ADMINISTRATOR, DATA_OFFICER, Principal, require_roles
from services.common.errors import ApiError
from services.common.runtime import ServiceContext, context

router = APIRouter(prefix="/master", tags=["drop-down lists"])


class Entry(BaseModel):
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9\-]{1,40}$")
    name: str = Field(min_length=2, max_length=200)


class DdoEntry(BaseModel):
    ddo_code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9\-]{1,60}$")
    department_code: str
    district: str
    office_name: str = Field(min_length=2, max_length=200)


@router.get("/departments", response_model=list[Entry])
async def departments(ctx: ServiceContext = Depends(context)):
    return [dict(r) for r in await ctx.pool.fetch("SELECT code, name FROM applications.department ORDER BY name")]


@router.get("/districts", response_model=list[str])
async def districts(ctx: ServiceContext = Depends(context)):
    return [r["name"] for r in await ctx.pool.fetch("SELECT name FROM applications.district ORDER BY name")]


@router.get("/posts", response_model=list[Entry])
async def posts(ctx: ServiceContext = Depends(context)):
    return [dict(r) for r in await ctx.pool.fetch("SELECT code, name FROM applications.post ORDER BY name")]


@router.get("/ddos", response_model=list[DdoEntry])
async def ddos(department_code: str = Query(...), district: str = Query(...), ctx: ServiceContext = Depends(context)):
    """The DDOs of one department in one district: the only DDOs the form accepts for that pair."""
    rows = await ctx.pool.fetch(
        "SELECT ddo_code, department_code, district, office_name FROM applications.ddo "
        "WHERE department_code = $1 AND district = $2 ORDER BY ddo_code",
        department_code,
        district,
    )
    return [dict(r) for r in rows]


async def _add(ctx: ServiceContext, officer: Principal, list_name: str, code: str, sql: str, *args) -> None:
    async with ctx.pool.acquire() as conn, conn.transaction():
        if await conn.fetchval(sql + " ON CONFLICT DO NOTHING RETURNING 1", *args) is None:
            raise ApiError(409, "entry_exists", f"{code} is already in the {list_name} list.")
        await conn.execute(
            "INSERT INTO applications.dropdown_change (list_name, code, entry, added_by) VALUES ($1, $2, $3, $4)",
            list_name,
            code,
            [str(a) for a in args],
            officer.subject,
        )


@router.post("/posts", status_code=201, response_model=Entry)
async def add_post(
    body: Entry,
    ctx: ServiceContext = Depends(context),
    officer: Principal = Depends(require_roles(DATA_OFFICER, ADMINISTRATOR)),
):
    await _add(
        ctx,
        officer,
        "post",
        body.code,
        "INSERT INTO applications.post (code, name) VALUES ($1, $2)",
        body.code,
        body.name,
    )
    return body


@router.post("/departments", status_code=201, response_model=Entry)
async def add_department(
    body: Entry,
    ctx: ServiceContext = Depends(context),
    officer: Principal = Depends(require_roles(DATA_OFFICER, ADMINISTRATOR)),
):
    await _add(
        ctx,
        officer,
        "department",
        body.code,
        "INSERT INTO applications.department (code, name) VALUES ($1, $2)",
        body.code,
        body.name,
    )
    return body


@router.post("/ddos", status_code=201, response_model=DdoEntry)
async def add_ddo(
    body: DdoEntry,
    ctx: ServiceContext = Depends(context),
    officer: Principal = Depends(require_roles(DATA_OFFICER, ADMINISTRATOR)),
):
    async with ctx.pool.acquire() as conn:
        if not await conn.fetchval("SELECT 1 FROM applications.department WHERE code = $1", body.department_code):
            raise ApiError(
                422, "unknown_department", f"Department {body.department_code} is not in the list; add it first."
            )
        if not await conn.fetchval("SELECT 1 FROM applications.district WHERE name = $1", body.district):
            raise ApiError(422, "unknown_district", f"{body.district!r} is not one of Haryana's districts.")
    await _add(
        ctx,
        officer,
        "ddo",
        body.ddo_code,
        "INSERT INTO applications.ddo (ddo_code, department_code, district, office_name) VALUES ($1, $2, $3, $4)",
        body.ddo_code,
        body.department_code,
        body.district,
        body.office_name,
    )
    return body
