"""PostgreSQL: one asyncpg pool per process, and each service's versioned migrations (yoyo)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import asyncpg

log = logging.getLogger("seva.db")


async def _init_connection(conn: asyncpg.Connection) -> None:
    """jsonb as Python values, in the binary format (version byte 1, then the text) so COPY works too."""
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: b"\x01" + json.dumps(v).encode(),
        decoder=lambda b: json.loads(b[1:]),
        schema="pg_catalog",
        format="binary",
    )


class BoundedPool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg ships no types
    """A pool whose every acquire is bounded, and so its release too (asyncpg gives the release the acquire's
    timeout: after a timed-out query it waits for the cancellation and the reset), since the routes use
    `pool.acquire()` without a timeout of their own."""

    acquire_timeout = 5.0

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


async def create_pool(
    database_url: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    connect_timeout: float = 5.0,
    command_timeout: float | None = 8.0,
) -> asyncpg.Pool:
    """Every wait on the database is bounded: a frozen or dead server fails a request in seconds (a 503, see
    errors.py) instead of hanging it (a query by `command_timeout`, getting and giving back a connection by
    `connect_timeout`). Idle connections are recycled so a restarted server's are not kept."""
    pool = BoundedPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        timeout=connect_timeout,
        command_timeout=command_timeout,
        max_inactive_connection_lifetime=60,
        max_queries=50000,
        connect=None,
        setup=None,
        reset=None,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
    )
    pool.acquire_timeout = connect_timeout
    return await pool


async def prune_delivered(pool: asyncpg.Pool, schema: str, outbox_keep_hours: float, inbox_keep_hours: float) -> None:
    """Drop published outbox rows and processed-event rows older than their retention. An unpublished row is
    never touched, and the inbox keeps a row longer than Kafka keeps the message, so no redelivery finds it gone."""
    async with pool.acquire() as conn:
        outbox = await conn.execute(
            f"DELETE FROM {schema}.outbox WHERE published_at IS NOT NULL "
            f"AND published_at < now() - make_interval(secs => $1)",
            outbox_keep_hours * 3600,
        )
        inbox = await conn.execute(
            f"DELETE FROM {schema}.inbox WHERE processed_at < now() - make_interval(secs => $1)",
            inbox_keep_hours * 3600,
        )
    removed = (int(outbox.split()[-1]), int(inbox.split()[-1]))
    if any(removed):
        log.info("%s: pruned %d published outbox and %d processed-event rows", schema, *removed)


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
