"""How every service process is put together: one FastAPI app whose lifespan opens the database pool,
applies the service's migrations, relays its outbox to Kafka, runs its Kafka consumers and runs its own
Temporal worker on its own task queue. A service module only says what is its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from temporalio.client import Client
from temporalio.common import TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from contract import case_workflow_id

from .addresses import client_addr as client_addr  # the routes' import
from .auth import OPS, Principal, require_roles
from .db import apply_migrations, create_pool, prune_delivered
from .errors import install_error_handlers
from .health import Health
from .input_guard import InputGuard
from .kafka import KAFKA_STALL_AFTER, EventConsumer, KafkaWatch, OutboxRelay, start_producer
from .logs import configure_logging
from .metrics import metrics_answer, record_http
from .settings import (
    SETTINGS_BY_PROCESS,
    ApplicationsSettings,
    OrdersSettings,
    OtpSettings,
    Settings,
    VerificationSettings,
    get_settings,
    use_settings,
)
from .telemetry import setup_tracing
from .temporal import PermanentErrorsInterceptor, connect

log = logging.getLogger("seva.runtime")

# A consumer factory gets the running service and returns (topics, handler).
Consumer = tuple[list[str], Callable[[dict[str, Any]], Awaitable[None]]]
ConsumerSpec = Callable[["ServiceContext[Any]"], Consumer]


SettingsT = TypeVar("SettingsT", bound=Settings)


@dataclass
class ServiceContext(Generic[SettingsT]):
    """What a running service hands to its routes, activities and consumers (typed by its own settings: each
    service's code reads `OtpContext`, `OrdersContext`, ... and its own settings' fields)."""

    name: str
    settings: SettingsT
    pool: asyncpg.Pool
    temporal: Client
    health: Health = field(default_factory=Health)

    async def case_attributes(self, employee_id: str) -> TypedSearchAttributes | None:
        """The search attributes of the employee's case in this season (its department, district, DDO code,
        stage), or None when there is no such case. Any other failure of the case engine is raised."""
        try:
            described = await self.temporal.get_workflow_handle(
                case_workflow_id(employee_id, self.settings.season_id)
            ).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        return described.typed_search_attributes


@dataclass
class ServiceDefinition:
    name: str  # also the PostgreSQL schema and the Temporal task queue
    title: str
    routers: list[APIRouter]
    migrations: Path
    activities: Callable[[ServiceContext[Any]], list[Any]] = lambda ctx: []
    consumers: list[tuple[str, ConsumerSpec]] = field(default_factory=list)  # (consumer name, spec)
    dev_routers: list[APIRouter] = field(default_factory=list)  # mounted in dev only: elsewhere they do not exist


# each service's context, with its own settings
OtpContext = ServiceContext[OtpSettings]
ApplicationsContext = ServiceContext[ApplicationsSettings]
VerificationContext = ServiceContext[VerificationSettings]
OrdersContext = ServiceContext[OrdersSettings]


def context(request: Request) -> ServiceContext[Any]:
    """FastAPI dependency: the running service."""
    ctx: ServiceContext[Any] = request.app.state.ctx
    return ctx


def task_problem(task: asyncio.Task[Any]) -> str | None:
    """A background task that must run for the life of the process has ended: say how."""
    if not task.done():
        return None
    if task.cancelled():
        return "cancelled"
    return f"ended: {task.exception()!r}" if task.exception() else "ended"


async def readiness_report(health: Health, process: str, database: asyncpg.Pool | None = None) -> dict[str, Any]:
    """Everything readiness looks at: each component's state and problem, the dead letters by reason, the
    database's answer. For ops (`GET /ops/readiness`, role ops), not for anyone who can reach the probe."""
    report = {"service": process, **health.report()}
    if database is not None:
        try:
            async with asyncio.timeout(1.0):
                await database.fetchval("SELECT 1")
            report["database"] = "ok"
        except Exception as exc:
            report["database"], report["ready"] = f"unavailable: {type(exc).__name__}: {exc}"[:300], False
    return report


def probe_answer(report: dict[str, Any]) -> JSONResponse:
    """What the readiness probe (and anyone who can reach it) is told: ready or not, nothing more. The detail
    (database errors, dead-letter counts, which part is down) is for ops: `GET /ops/readiness`."""
    ready = bool(report["ready"])
    return JSONResponse(
        {"service": report["service"], "status": "ready" if ready else "unready"}, status_code=200 if ready else 503
    )


def detail_answer(report: dict[str, Any]) -> JSONResponse:
    return JSONResponse(report, status_code=200 if report["ready"] else 503)


def build_app(defn: ServiceDefinition) -> FastAPI:
    use_settings(SETTINGS_BY_PROCESS[defn.name])
    settings = get_settings()  # fails here, before anything starts, on a missing environment or secret
    configure_logging(defn.name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        setup_tracing(defn.name, settings)
        await apply_migrations(settings.database_url, defn.name, defn.migrations)
        pool = await create_pool(
            settings.database_url,
            connect_timeout=settings.db_connect_timeout_seconds,
            command_timeout=settings.db_command_timeout_seconds,
        )
        temporal = await connect(settings)
        ctx = ServiceContext(defn.name, settings, pool, temporal)
        app.state.ctx = ctx
        producer = await start_producer(settings.kafka_bootstrap)

        async def prune() -> None:
            await prune_delivered(pool, defn.name, settings.outbox_retention_hours, settings.inbox_retention_hours)

        relay = OutboxRelay(
            pool, defn.name, producer, health=ctx.health.add(f"outbox-relay-{defn.name}", "relay"), prune=prune
        )
        await relay.start()
        kafka_watch = KafkaWatch(
            producer, settings.kafka_bootstrap, ctx.health.add("kafka", "broker", stall_after=KAFKA_STALL_AFTER)
        )
        await kafka_watch.start()
        consumers = []
        for consumer_name, spec in defn.consumers:
            topics, handler = spec(ctx)
            group = f"{defn.name}.{consumer_name}"
            c = EventConsumer(
                settings.kafka_bootstrap,
                topics,
                group,
                handler,
                producer,
                transient_limit=settings.consumer_transient_limit_seconds,
                health=ctx.health.add(f"consumer-{group}", "consumer"),
            )
            await c.start()
            consumers.append(c)
        worker = Worker(
            temporal, task_queue=defn.name, activities=defn.activities(ctx), interceptors=[PermanentErrorsInterceptor()]
        )
        worker_task = asyncio.create_task(worker.run(), name=f"{defn.name}-worker")
        ctx.health.add(f"temporal-worker-{defn.name}", "worker", probe=lambda: task_problem(worker_task)).ok()
        log.info("%s service ready", defn.name)
        try:
            yield
        finally:
            await worker.shutdown()
            await asyncio.gather(worker_task, return_exceptions=True)
            for c in consumers:
                await c.stop()
            await kafka_watch.stop()
            await relay.stop()
            await producer.stop()
            await pool.close()

    app = FastAPI(
        title=defn.title,
        lifespan=lifespan,
        description="Seva Suraksha: Haryana contractual employees' job-security process.",
    )
    install_error_handlers(app)
    app.add_middleware(InputGuard)
    origins = [o.strip() for o in getattr(settings, "codec_cors_origins", "").split(",") if o.strip()]
    if origins:  # the Temporal UI calls the codec endpoint from the browser
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["POST"],
            allow_credentials=True,
            # the signed-in UI sends the officer's ID token beside the access token (Authorization-Extras); the
            # codec server reads only the access token, but a preflight that refuses the header fails every call
            allow_headers=["authorization", "authorization-extras", "content-type", "x-namespace"],
        )

    app.middleware("http")(record_http)

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics (services/common/metrics.py): nothing personal in any label."""
        ctx: ServiceContext[Any] = request.app.state.ctx
        return await metrics_answer(ctx.health, ctx.pool, defn.name, ctx.settings.temporal_metrics_port)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, Any]:
        """Liveness: the process answers. It does not look at PostgreSQL, Kafka or Temporal, so an outage of
        one of them does not get every replica restarted."""
        return {"service": defn.name, "status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the database answers within a second, and every consumer, the outbox relay and the
        Temporal worker are running (a dead or stalled one makes the process unready). Status only."""
        ctx: ServiceContext[Any] = request.app.state.ctx
        return probe_answer(await readiness_report(ctx.health, defn.name, database=ctx.pool))

    @app.get("/ops/readiness", tags=["ops"])
    async def readiness_detail(request: Request, _: Principal = Depends(require_roles(OPS))) -> JSONResponse:
        """Why the process is (not) ready, for ops: each component's state and problem, the dead letters it
        wrote by reason, the database's answer. 503 while not ready, like the probe."""
        ctx: ServiceContext[Any] = request.app.state.ctx
        return detail_answer(await readiness_report(ctx.health, defn.name, database=ctx.pool))

    for router in defn.routers + (defn.dev_routers if settings.is_dev else []):
        app.include_router(router)
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # a pre-season "is this number yours?" link carries its code in the path: no span records it (an OTLP
    # collector keeps url.path), as no table or log does (services/otp/confirmation.py)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics,mobile-confirmations")
    return app


async def serve_health(health: Health, process: str, port: int) -> asyncio.Task[Any]:
    """`/healthz` and `/readyz` for a process that has no API of its own (the cases worker)."""
    import uvicorn

    probe = FastAPI(title=f"Seva Suraksha: {process} health", docs_url=None, redoc_url=None, openapi_url=None)

    @probe.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"service": process, "status": "ok"}

    install_error_handlers(probe)

    @probe.get("/readyz")
    async def readyz() -> JSONResponse:
        return probe_answer(await readiness_report(health, process))

    @probe.get("/metrics")
    async def metrics() -> Response:
        return await metrics_answer(health, sdk_port=get_settings().temporal_metrics_port)

    @probe.get("/ops/readiness")
    async def readiness_detail(_: Principal = Depends(require_roles(OPS))) -> JSONResponse:
        return detail_answer(await readiness_report(health, process))

    server = uvicorn.Server(uvicorn.Config(probe, host="0.0.0.0", port=port, log_level="warning", lifespan="off"))
    # The process's own handlers stop it: uvicorn must not take SIGINT/SIGTERM for the health server alone.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    return asyncio.create_task(server.serve(), name=f"{process}-health")
