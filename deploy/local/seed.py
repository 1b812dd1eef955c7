"""Loads synthetic master data into the services' schemas, writes a season calendar and starts the cases.
Safe to run again: rows already there are kept, and no case is started twice."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from temporalio.client import Client
from tqdm import tqdm

from contract import IST, OFFICIAL_2025_26, shifted
from ops.cases import start_cases
from ops.database import copy_new, migrate_all, put_calendar
from ops.records_import import copy_records

from .synthetic import DEPARTMENTS_HI, DISTRICTS_HI, POSTS_HI, MasterData


async def load_master_data(pool: asyncpg.Pool, data: MasterData) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await copy_new(
            conn,
            "applications.department",
            ["code", "name", "name_hi"],
            [(c, n, DEPARTMENTS_HI.get(c)) for c, n in data.departments.items()],
        )
        await copy_new(
            conn, "applications.district", ["name", "name_hi"], [(d, DISTRICTS_HI.get(d)) for d in data.districts]
        )
        await copy_new(
            conn,
            "applications.post",
            ["code", "name", "name_hi"],
            [(c, n, POSTS_HI.get(c)) for c, n in data.posts.items()],
        )
        ddo_cols = ["ddo_code", "department_code", "district", "office_name", "office_name_hi", "phone"]
        await copy_new(conn, "applications.ddo", ddo_cols, [tuple(d.get(c) for c in ddo_cols) for d in data.ddos])
        officer_cols = [
            "officer_id",
            "name",
            "role",
            "ddo_code",
            "department",
            "data_owner",
            "mobile",
            "email",
            "language",
        ]
        await copy_new(
            conn, "verification.officer", officer_cols, [tuple(o[c] for c in officer_cols) for o in data.officers]
        )
        await copy_records(conn, [e.master for e in data.employees])
        ppp_cols = ["family_id", "name", "father_name", "date_of_birth", "mobile"]
        await copy_new(conn, "otp.ppp_registry", ppp_cols, [tuple(e.ppp[c] for c in ppp_cols) for e in data.employees])


async def ensure_rehearsal_season(pool: asyncpg.Pool, season_id: str, opens_at: datetime | None = None) -> None:
    """A season for the local stack: the 2025-26 calendar moved so registration opened at midnight today (IST)."""
    exists = await pool.fetchval("SELECT 1 FROM applications.season_calendar WHERE season_id = $1", season_id)
    if not exists:
        today = datetime.now(IST).replace(hour=0, minute=0, second=0, microsecond=0)
        await put_calendar(
            pool,
            shifted(OFFICIAL_2025_26, season_id, opens_at or today),
            "seed",
            "rehearsal season for the local stack: the 2025-26 dates moved to today",
        )


async def import_employees(
    database_url: str,
    temporal: Client,
    season_id: str,
    data: MasterData,
    concurrency: int = 128,
    show_progress: bool = True,
) -> tuple[int, int]:
    """`seva import`: load master data (rows already there are kept) and start a case for every employee
    (a case already started, open or closed, is left alone), so an interrupted import is simply run again."""
    from services.common.db import create_pool

    await migrate_all(database_url)
    pool = await create_pool(database_url, command_timeout=None)  # a state-size import runs long
    try:
        await ensure_rehearsal_season(pool, season_id)
        before = await pool.fetchval("SELECT count(*) FROM otp.employee_master")
        chunk = 20_000
        bar = tqdm(total=len(data.employees), desc="loading master data", unit="employee", disable=not show_progress)
        for i in range(0, len(data.employees), chunk):
            part = MasterData(
                data.departments, data.districts, data.posts, data.ddos, data.officers, data.employees[i : i + chunk]
            )
            await load_master_data(pool, part)
            bar.update(len(part.employees))
        bar.close()
        loaded = await pool.fetchval("SELECT count(*) FROM otp.employee_master") - before
    finally:
        await pool.close()
    return loaded, await start_cases(
        temporal, [e.master for e in data.employees], season_id, concurrency=concurrency, show_progress=show_progress
    )


async def seed(
    database_url: str,
    temporal: Client,
    season_id: str,
    size: int,
    seed_value: int = 2025,
    fault_share: float = 0.1,
    show_progress: bool = True,
) -> tuple[MasterData | None, int]:
    """What a fresh local stack needs: migrations, a rehearsal season, master data and one case per
    employee. A stack that already holds employees is left as it is."""
    from services.common.db import create_pool

    from .synthetic import generate

    await migrate_all(database_url)
    pool = await create_pool(database_url, command_timeout=None)  # a state-size import runs long
    try:
        await ensure_rehearsal_season(pool, season_id)
        if await pool.fetchval("SELECT count(*) FROM otp.employee_master"):
            return None, 0
        bar = tqdm(total=size, desc="generating employees", unit="employee", disable=not show_progress)
        data = generate(size, seed_value, fault_share, progress=bar.update)
        bar.close()
        await load_master_data(pool, data)
    finally:
        await pool.close()
    return data, await start_cases(temporal, [e.master for e in data.employees], season_id, show_progress=show_progress)
