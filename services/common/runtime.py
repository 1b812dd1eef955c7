"""How every service process is put together: one FastAPI app whose lifespan opens the database pool,
applies the service's migrations, relays its outbox to Kafka, runs its Kafka consumers and runs its own
Temporal worker on its own task queue. A service module only says what is its own."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

import asyncpg
from fastapi import APIRouter, FastAPI, Request
from temporalio.client import Client
from temporalio.worker import Worker

from .db import apply_migrations, create_pool
from .errors import install_error_handlers
from .kafka import EventConsumer, OutboxRelay, start_producer
from .settings import Settings, get_settings
from .telemetry import setup_tracing
from .temporal import connect

log = logging.getLogger("seva.runtime")

# A consumer factory gets the running service and returns (topics, handler).
ConsumerSpec = Callable[["ServiceContext"], tuple[list[str], Callable[[dict], Awaitable[None]]]]


@dataclass
class ServiceContext:
    """What a running service hands to its routes, activities and consumers."""
    name: str
    settings: Settings
    pool: asyncpg.Pool
    temporal: Client


@dataclass
class ServiceDefinition:
    name: str                                  # also the PostgreSQL schema and the Temporal task queue
    title: str
    routers: list[APIRouter]
    migrations: Path
    activities: Callable[[ServiceContext], list] = lambda ctx: []
    consumers: list[tuple[str, ConsumerSpec]] = field(default_factory=list)  # (consumer name, spec)


def context(request: Request) -> ServiceContext:
    """FastAPI dependency: the running service."""
    return request.app.state.ctx


def client_addr(request: Request) -> str:
    """Where a request came from, for the audit log and per-address limits."""
    return request.client.host if request.client else "unknown"


def build_app(defn: ServiceDefinition) -> FastAPI:
    settings = get_settings()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("seva").setLevel(logging.INFO)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        setup_tracing(defn.name, settings)
        await apply_migrations(settings.database_url, defn.name, defn.migrations)
        pool = await create_pool(settings.database_url)
        temporal = await connect(settings)
        ctx = ServiceContext(defn.name, settings, pool, temporal)
        app.state.ctx = ctx
        producer = await start_producer(settings.kafka_bootstrap)
        relay = OutboxRelay(pool, defn.name, producer)
        await relay.start()
        consumers = []
        for consumer_name, spec in defn.consumers:
            topics, handler = spec(ctx)
            c = EventConsumer(settings.kafka_bootstrap, topics, f"{defn.name}.{consumer_name}", handler, producer)
            await c.start()
            consumers.append(c)
        worker = Worker(temporal, task_queue=defn.name, activities=defn.activities(ctx))
        worker_task = asyncio.create_task(worker.run(), name=f"{defn.name}-worker")
        log.info("%s service ready", defn.name)
        try:
            yield
        finally:
            await worker.shutdown()
            await asyncio.gather(worker_task, return_exceptions=True)
            for c in consumers:
                await c.stop()
            await relay.stop()
            await producer.stop()
            await pool.close()

    app = FastAPI(title=defn.title, lifespan=lifespan,
                  description="Seva Suraksha: Haryana contractual employees' job-security process.")
    install_error_handlers(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz(request: Request) -> dict:
        ctx: ServiceContext = request.app.state.ctx
        await ctx.pool.fetchval("SELECT 1")
        return {"service": defn.name, "status": "ok"}

    for router in defn.routers:
        app.include_router(router)
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz")
    return app
