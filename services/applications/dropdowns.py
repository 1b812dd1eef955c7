"""The drop-down lists (department, district, post, DDO) as data the owners extend at run time: each addition
is kept with who added it, and is in the form at once."""

from __future__ import annotations

from typing import Any

from contract import SMS_TOPIC, EventType
from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.events import envelope, publish, write_event
from services.common.runtime import ApplicationsContext

DDO_COLUMNS = "ddo_code, department_code, district, office_name, office_name_hi, phone"
LISTS = {
    "department": "SELECT code, name, name_hi FROM applications.department ORDER BY name",
    "post": "SELECT code, name, name_hi FROM applications.post ORDER BY name",
}


async def entries(ctx: ApplicationsContext, list_name: str) -> list[dict[str, Any]]:
    return [dict(r) for r in await ctx.pool.fetch(LISTS[list_name])]


async def districts(ctx: ApplicationsContext) -> list[str]:
    return [r["name"] for r in await ctx.pool.fetch("SELECT name FROM applications.district ORDER BY name")]


async def district_names(ctx: ApplicationsContext) -> list[dict[str, Any]]:
    return [dict(r) for r in await ctx.pool.fetch("SELECT name, name_hi FROM applications.district ORDER BY name")]


async def ddo(ctx: ApplicationsContext, ddo_code: str) -> dict[str, Any] | None:
    row = await ctx.pool.fetchrow(f"SELECT {DDO_COLUMNS} FROM applications.ddo WHERE ddo_code = $1", ddo_code)
    return dict(row) if row else None


async def ddos(ctx: ApplicationsContext, department_code: str, district: str) -> list[dict[str, Any]]:
    """The DDOs of one department in one district: the only DDOs the form accepts for that pair."""
    rows = await ctx.pool.fetch(
        f"SELECT {DDO_COLUMNS} FROM applications.ddo WHERE department_code = $1 AND district = $2 ORDER BY ddo_code",
        department_code,
        district,
    )
    return [dict(r) for r in rows]


async def _add(ctx: ApplicationsContext, officer: Principal, list_name: str, code: str, sql: str, *args: Any) -> None:
    async with ctx.pool.acquire() as conn, conn.transaction():
        if await conn.fetchval(sql + " ON CONFLICT DO NOTHING RETURNING 1", *args) is None:
            raise ApiError(409, "entry_exists", f"{code} is already in the {list_name} list.")
        await conn.execute(
            "INSERT INTO applications.dropdown_change (list_name, code, entry, added_by) VALUES ($1, $2, $3, $4)",
            list_name,
            code,
            ["" if a is None else str(a) for a in args],
            officer.subject,
        )
        # each employee whose application was refused for want of it: their case hears, and they get an SMS
        waiting = await conn.fetch(
            "UPDATE applications.missing_entry SET added_at = now() WHERE list_name = $1 AND code = $2 "
            "AND added_at IS NULL RETURNING employee_id",
            list_name,
            code,
        )
        for row in waiting:
            await publish(
                conn, "applications", EventType.ENTRY_ADDED, row["employee_id"], {"list_name": list_name, "code": code}
            )
            await write_event(
                conn,
                "applications",
                SMS_TOPIC,
                envelope(
                    "sms.requested", "applications", row["employee_id"], {"template": "entry_added", "params": {}}
                ),
            )


async def missing(ctx: ApplicationsContext) -> list[dict[str, Any]]:
    """Entries employees needed and the lists lack, most asked for first: the data owners' work list."""
    rows = await ctx.pool.fetch(
        "SELECT list_name, code, count(*) AS employees, min(reported_at) AS first_reported FROM "
        "applications.missing_entry WHERE added_at IS NULL GROUP BY 1, 2 ORDER BY 3 DESC, 4"
    )
    return [dict(r) for r in rows]


async def add_post(ctx: ApplicationsContext, officer: Principal, code: str, name: str, name_hi: str | None) -> None:
    await _add(
        ctx,
        officer,
        "post",
        code,
        "INSERT INTO applications.post (code, name, name_hi) VALUES ($1, $2, $3)",
        code,
        name,
        name_hi,
    )


async def add_department(
    ctx: ApplicationsContext, officer: Principal, code: str, name: str, name_hi: str | None
) -> None:
    await _add(
        ctx,
        officer,
        "department",
        code,
        "INSERT INTO applications.department (code, name, name_hi) VALUES ($1, $2, $3)",
        code,
        name,
        name_hi,
    )


async def add_ddo(
    ctx: ApplicationsContext,
    officer: Principal,
    ddo_code: str,
    department_code: str,
    district: str,
    office_name: str,
    office_name_hi: str | None = None,
    phone: str | None = None,
) -> None:
    """A DDO only for a department and a district already in the lists."""
    async with ctx.pool.acquire() as conn:
        if not await conn.fetchval("SELECT 1 FROM applications.department WHERE code = $1", department_code):
            raise ApiError(422, "unknown_department", f"Department {department_code} is not in the list; add it first.")
        if not await conn.fetchval("SELECT 1 FROM applications.district WHERE name = $1", district):
            raise ApiError(422, "unknown_district", f"{district!r} is not one of Haryana's districts.")
    await _add(
        ctx,
        officer,
        "ddo",
        ddo_code,
        "INSERT INTO applications.ddo (ddo_code, department_code, district, office_name, office_name_hi, phone) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        ddo_code,
        department_code,
        district,
        office_name,
        office_name_hi,
        phone,
    )
