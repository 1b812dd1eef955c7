"""PostgreSQL: one asyncpg pool per process, and each service's versioned migrations (yoyo)."""
from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import asyncpg

log = logging.getLogger("seva.db")


async def _init_connection(conn: asyncpg.Connection) -> None:
    """jsonb as Python values, in the binary format (version byte 1, then the text) so COPY works too."""
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("jsonb", encoder=lambda v: b"\x01" + json.dumps(v).encode(),
                              decoder=lambda b: json.loads(b[1:]), schema="pg_catalog", format="binary")


async def create_pool(database_url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(database_url, min_size=min_size, max_size=max_size, init=_init_connection)


def _yoyo_url(database_url: str, schema: str) -> str:
    scheme, rest = database_url.split("://", 1)
    joiner = "&" if "?" in rest else "?"
    return f"postgresql+psycopg://{rest}{joiner}schema={schema}"


def apply_migrations_sync(database_url: str, service: str, migrations_dir: Path) -> int:
    """Apply the service's pending migrations. The service's schema holds its own migration bookkeeping;
    a session advisory lock serialises services that start together."""
    import psycopg
    from yoyo import get_backend, read_migrations

    with psycopg.connect(database_url, autocommit=True) as guard:
        guard.execute("SELECT pg_advisory_lock(hashtext('seva-migrations'))")
        guard.execute(f'CREATE SCHEMA IF NOT EXISTS "{service}"')
        backend = get_backend(_yoyo_url(database_url, service))
        migrations = read_migrations(str(migrations_dir))
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        backend.connection.close()
    if pending:
        log.info("%s: applied %d migration(s)", service, len(pending))
    return len(pending)


async def apply_migrations(database_url: str, service: str, migrations_dir: Path) -> int:
    return await asyncio.to_thread(apply_migrations_sync, database_url, service, migrations_dir)
