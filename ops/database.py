"""The database round every tool shares: each service's migrations, a bulk copy that keeps rows already there,
and a season's calendar stored as its next version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg

from contract import SeasonCalendar
from services.applications.calendar import store_version
from services.common.db import apply_migrations

SERVICES_DIR = Path(__file__).resolve().parents[1] / "services"
SERVICE_NAMES = ("otp", "applications", "verification", "orders")


async def migrate_all(database_url: str) -> None:
    for name in SERVICE_NAMES:
        await apply_migrations(database_url, name, SERVICES_DIR / name / "migrations")


async def copy_new(conn: asyncpg.Connection, table: str, columns: list[str], records: list[tuple[Any, ...]]) -> None:
    """Bulk insert through a temporary table, keeping rows that already exist (so an interrupted load is simply
    run again)."""
    tmp = "seed_" + table.replace(".", "_")
    await conn.execute(f"CREATE TEMP TABLE {tmp} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
    await conn.copy_records_to_table(tmp, records=records, columns=columns)
    cols = ", ".join(columns)
    await conn.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {tmp} ON CONFLICT DO NOTHING")


async def put_calendar(pool: asyncpg.Pool, calendar: SeasonCalendar, changed_by: str, reason: str) -> SeasonCalendar:
    """Store a season's calendar as its next version."""
    async with pool.acquire() as conn, conn.transaction():
        calendar.version = (await store_version(conn, calendar, changed_by, reason))["version"]
    return calendar
