"""Domain events: the envelope every service writes, the topics, and how a state change and its event
commit together (transactional outbox)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from opentelemetry import propagate
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contract import AUDIT_HEADS_TOPIC, MASTERDATA_TOPIC, SMS_TOPIC, TOPICS

# Every consumer group in the system (the cases worker's, and `<service>.<consumer>` for each service's
# consumers). Each has its own dead-letter topic, so a dead letter says whose it is and replays to its topic.
CONSUMER_GROUPS = (
    "cases.signaller",
    "otp.sms-gateway",
    "otp.masterdata-corrections",
    "otp.certificates",
    "applications.returns",
    "orders.escalations",
)


def dead_letter_topic(group_id: str) -> str:
    return f"dlq.{group_id}"


DEAD_LETTER_TOPICS = [dead_letter_topic(g) for g in CONSUMER_GROUPS]
ALL_TOPICS = [*TOPICS.values(), SMS_TOPIC, MASTERDATA_TOPIC, AUDIT_HEADS_TOPIC, *DEAD_LETTER_TOPICS]


class Envelope(BaseModel):
    """What every consumer needs of a message before its handler sees it."""

    model_config = ConfigDict(extra="allow")

    event_id: uuid.UUID
    type: str = Field(min_length=1, max_length=100)
    employee_id: str = Field(max_length=100)
    data: dict[str, Any] = Field(default_factory=dict)


def parse_envelope(message: dict[str, Any]) -> dict[str, Any]:
    """The message as an event, or ValueError saying why it is not one (it can never be handled)."""
    try:
        Envelope.model_validate(message)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}" for e in exc.errors())
        raise ValueError(problems) from None
    return {"data": {}, **message}


def stable_event_id(*parts: str) -> str:
    """An event id derived from what the event is about, so a retried activity writes the same event."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "seva:" + "/".join(parts)))


def envelope(
    event_type: str, source: str, employee_id: str, data: dict[str, Any], event_id: str | None = None
) -> dict[str, Any]:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "source": source,
        "employee_id": employee_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": data,
    }


async def write_event(conn: asyncpg.Connection, schema: str, topic: str, event: dict[str, Any]) -> str:
    """Insert the event into the service's outbox. Call inside the transaction of the state change.
    Writing the same event id twice (a retried activity) keeps the first."""
    headers: dict[str, str] = {}
    propagate.inject(headers)  # the trace continues through Kafka
    await conn.execute(
        f"INSERT INTO {schema}.outbox (event_id, topic, key, event_type, payload, headers) VALUES ($1, $2, $3, $4, $5, $6) "
        f"ON CONFLICT (event_id) DO NOTHING",
        uuid.UUID(event["event_id"]),
        topic,
        event["employee_id"],
        event["type"],
        event,
        headers,
    )
    await conn.execute("SELECT pg_notify($1, '')", f"{schema}_outbox")
    return str(event["event_id"])


async def publish(
    conn: asyncpg.Connection,
    schema: str,
    event_type: str,
    employee_id: str,
    data: dict[str, Any],
    topic: str | None = None,
    event_id: str | None = None,
) -> str:
    """Shorthand: build the envelope for this service and write it to the outbox."""
    event = envelope(event_type, schema, employee_id, data, event_id)
    return await write_event(conn, schema, topic or TOPICS[schema], event)


async def claim_event(conn: asyncpg.Connection, schema: str, consumer: str, event_id: str) -> bool:
    """Idempotent consumers: True the first time this consumer sees the event, False on a redelivery.
    Call inside the transaction that applies the event's effect."""
    row = await conn.fetchval(
        f"INSERT INTO {schema}.inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1",
        consumer,
        uuid.UUID(event_id),
    )
    return row is not None
