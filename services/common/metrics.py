"""Prometheus metrics for operations (prometheus-client, not OpenTelemetry's meters: the Prometheus text format is
what the alert rules and promtool read, the client is small and pull-based, and the traces already go through
OpenTelemetry; docs/operations.md says the same). Every process serves `/metrics`.

Labels never carry anything personal: a route is its template (`/applications/{application_no}`), never the path
as asked; a component, a topic, a reason code, a stage or an outcome is one of a fixed few. A test scrapes every
process after the end-to-end run and fails on a label value that looks like an employee id or a mobile number."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from temporalio.client import Client
from temporalio.service import RPCError

from contract import Stage
from contract.search_attributes import cases_where

from .health import Health

log = logging.getLogger("seva.metrics")

HTTP_REQUESTS = Counter(
    "seva_http_requests_total",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "seva_http_request_seconds",
    "Time to answer an HTTP request, by route template and method",
    ["route", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
COMPONENT_UP = Gauge("seva_component_up", "1 while a background component is ready, 0 while not", ["component", "kind"])
COMPONENT_FAILING = Gauge(
    "seva_component_failing_seconds",
    "How long a component has failed without a pause (a consumer held on one message, a relay cut off); 0 when well",
    ["component", "kind"],
)
PARKED = Gauge(
    "seva_parked_messages",
    "Messages a component parked as dead letters since the process started",
    ["component", "reason"],
)
OUTBOX_WAITING = Gauge("seva_outbox_waiting", "Events written and not yet published to Kafka", ["service"])
OUTBOX_OLDEST = Gauge("seva_outbox_oldest_seconds", "Age of the oldest event waiting in the outbox", ["service"])
OTP_EVENTS = Counter(
    "seva_otp_total", "OTPs by what happened: requested (sent to the SMS queue), delivered, verified", ["outcome"]
)
SMS_ANSWERS = Counter(
    "seva_sms_gateway_answers_total", "The SMS gateway's answers, by outcome", ["template", "outcome"]
)
SMS_SECONDS = Histogram(
    "seva_sms_gateway_seconds", "Time the SMS gateway took to answer", buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
)
CONSUMER_LAG = Gauge(
    "seva_consumer_lag_messages",
    "Messages on a partition not yet taken by the consumer group (the high watermark less the next offset)",
    ["group", "topic", "partition"],
)
CONSUMER_MESSAGE_AGE = Gauge(
    "seva_consumer_message_age_seconds",
    "Age of the message a consumer is on, by partition (0 between messages): a message held for minutes is a stall",
    ["group", "topic", "partition"],
)
CASES = Gauge("seva_cases", "Cases of the season in force, by stage (sampled from Temporal's visibility)", ["stage"])


async def record_http(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Count and time each request under its route template (the path as asked could hold an id)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await call_next(request)
        status = response.status_code
        return response
    finally:
        route = getattr(request.scope.get("route"), "path", None) or "unmatched"
        if route != "/metrics":
            HTTP_REQUESTS.labels(route, request.method, str(status)).inc()
            HTTP_SECONDS.labels(route, request.method).observe(time.perf_counter() - started)


def read_health(health: Health) -> None:
    for c in health.components:
        problem = c.problem()
        COMPONENT_UP.labels(c.name, c.kind).set(0 if problem else 1)
        failing = 0.0 if c.failing_since is None else time.monotonic() - c.failing_since
        COMPONENT_FAILING.labels(c.name, c.kind).set(failing)
        for reason, n in c.dead_letters.items():
            PARKED.labels(c.name, reason).set(n)
        if c.partitions is not None:
            group = c.name.removeprefix("consumer-")
            for (topic, partition), (behind, age) in c.partitions().items():
                CONSUMER_LAG.labels(group, topic, str(partition)).set(behind)
                CONSUMER_MESSAGE_AGE.labels(group, topic, str(partition)).set(age)


async def read_outbox(pool: asyncpg.Pool, schema: str) -> None:
    try:
        row = await pool.fetchrow(
            f"SELECT count(*) AS waiting, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest "
            f"FROM {schema}.outbox WHERE published_at IS NULL",
            timeout=2,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return  # the database is out: the readiness probe says so; the last figures stand
    OUTBOX_WAITING.labels(schema).set(row["waiting"])
    OUTBOX_OLDEST.labels(schema).set(float(row["oldest"]))


async def sdk_metrics(port: int | None) -> bytes:
    """The Temporal SDK's own page (its exporter in this process, services/common/temporal.py), to be served on
    the process's one page; nothing if it does not answer at once (the process's own figures still go out)."""
    if port is None:
        return b""
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            r = await client.get(f"http://127.0.0.1:{port}/metrics")
    except httpx.HTTPError as err:
        log.warning("the Temporal SDK's metrics did not answer: %s", type(err).__name__)
        return b""
    return r.content if r.status_code == 200 else b""


async def metrics_answer(
    health: Health, pool: asyncpg.Pool | None = None, schema: str | None = None, sdk_port: int | None = None
) -> Response:
    """The process's metrics in Prometheus' text format, the sampled ones read now, the Temporal SDK's after."""
    read_health(health)
    if pool is not None and schema is not None:
        await read_outbox(pool, schema)
    page = generate_latest()
    sdk = await sdk_metrics(sdk_port)
    return Response(page + (b"\n" + sdk if sdk else b""), media_type=CONTENT_TYPE_LATEST)


async def sample_cases(client: Client, every: float = 60.0) -> None:
    """Cases per stage, from Temporal's visibility every `every` seconds (one count per stage: a sample, not a
    figure per request). A stage named `..._overdue` is a case past an officer's deadline, escalated."""
    stages = sorted(v for k, v in vars(Stage).items() if k.isupper() and isinstance(v, str))
    while True:
        try:
            for stage in stages:
                CASES.labels(stage).set((await client.count_workflows(cases_where(f"CaseStage = '{stage}'"))).count)
        except RPCError as err:  # Temporal out: the worker's readiness says so; the last sample stands
            log.warning("cases per stage not sampled: %s", err.message)
        await asyncio.sleep(every)


def labels_of(text: str) -> list[tuple[str, str, str]]:
    """(metric, label, value) for every labelled sample in a scrape: what the no-personal-data test reads."""
    from prometheus_client.parser import text_string_to_metric_families

    found: list[tuple[str, str, str]] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.extend((sample.name, k, v) for k, v in sample.labels.items())
    return found
