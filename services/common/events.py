"""Domain events: the envelope every service writes, the topics, and how a state change and its event
commit together (transactional outbox)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import asyncpg
from opentelemetry import propagate

# One topic per publishing service, keyed by employee id so a case's events stay in order.
TOPICS = {
    "otp": "otp.events",
    "applications": "applications.events",
    "verification": "verification.events",
    "orders": "orders.events",
}
SMS_TOPIC = "sms.outbound"
MASTERDATA_TOPIC = "masterdata.corrections"   # data owners (HKRN, Treasury, HARTRON) push corrections here
CASES_DLQ_TOPIC = "cases.dlq"
ALL_TOPICS = [*TOPICS.values(), SMS_TOPIC, MASTERDATA_TOPIC, CASES_DLQ_TOPIC]


def stable_event_id(*parts: str) -> str:
    """An event id derived from what the event is about, so a retried activity writes the same event."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "seva:" + "/".join(parts)))


def envelope(event_type: str, source: str, employee_id: str, data: dict[str, Any], event_id: str | None = None) -> dict:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "source": source,
        "employee_id": employee_id,
        "occurred_at": datetime.now(timezone.utc).isoformat(),
        "data": data,
    }


async def write_event(conn: asyncpg.Connection, schema: str, topic: str, event: dict) -> str:
    """Insert the event into the service's outbox. Call inside the transaction of the state change.
    Writing the same event id twice (a retried activity) keeps the first."""
    headers: dict[str, str] = {}
    propagate.inject(headers)  # the trace continues through Kafka
    await conn.execute(
        f"INSERT INTO {schema}.outbox (event_id, topic, key, event_type, payload, headers) VALUES ($1, $2, $3, $4, $5, $6) "
        f"ON CONFLICT (event_id) DO NOTHING",
        uuid.UUID(event["event_id"]), topic, event["employee_id"], event["type"], event, headers,
    )
    await conn.execute("SELECT pg_notify($1, '')", f"{schema}_outbox")
    return event["event_id"]


async def publish(conn: asyncpg.Connection, schema: str, event_type: str, employee_id: str, data: dict,
                  topic: str | None = None, event_id: str | None = None) -> str:
    """Shorthand: build the envelope for this service and write it to the outbox."""
    event = envelope(event_type, schema, employee_id, data, event_id)
    return await write_event(conn, schema, topic or TOPICS[schema], event)


async def claim_event(conn: asyncpg.Connection, schema: str, consumer: str, event_id: str) -> bool:
    """Idempotent consumers: True the first time this consumer sees the event, False on a redelivery.
    Call inside the transaction that applies the event's effect."""
    row = await conn.fetchval(
        f"INSERT INTO {schema}.inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1",
        consumer, uuid.UUID(event_id),
    )
    return row is not None
