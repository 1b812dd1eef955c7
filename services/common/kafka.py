"""Kafka: the outbox relay (database -> Kafka) and the at-least-once consumer loop (Kafka -> handler)."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Awaitable, Callable

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

log = logging.getLogger("seva.kafka")
tracer = trace.get_tracer("seva.kafka")

Handler = Callable[[dict], Awaitable[None]]


class DeadLetter(Exception):
    """Raised by a handler for an event that can never be handled: it goes to the dead-letter topic at once."""


async def start_producer(bootstrap: str) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                value_serializer=lambda v: json.dumps(v).encode(), key_serializer=str.encode)
    await producer.start()
    return producer


async def ensure_topics(bootstrap: str, topics: list[str], partitions: int = 4) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics if t not in existing]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


class OutboxRelay:
    """Moves committed outbox rows to Kafka, oldest first, marking each published only after Kafka acks.
    A crash between the send and the mark re-sends the row: consumers are idempotent by event id."""

    def __init__(self, pool: asyncpg.Pool, schema: str, producer: AIOKafkaProducer, batch: int = 500):
        self.pool, self.schema, self.producer, self.batch = pool, schema, producer, batch
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._listen_conn: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._listen_conn = await self.pool.acquire()
        await self._listen_conn.add_listener(f"{self.schema}_outbox", lambda *_: self._wake.set())
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.schema}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._listen_conn:
            await self.pool.release(self._listen_conn)

    async def relay_once(self) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT id, topic, key, payload, headers FROM {self.schema}.outbox WHERE published_at IS NULL "
                f"ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", self.batch)
            if not rows:
                return 0
            futures = [
                await self.producer.send(r["topic"], r["payload"], key=r["key"],
                                         headers=[(k, v.encode()) for k, v in (r["headers"] or {}).items()])
                for r in rows
            ]
            await asyncio.gather(*futures)
            await conn.execute(f"UPDATE {self.schema}.outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                               [r["id"] for r in rows])
            return len(rows)

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                while await self.relay_once():
                    pass
                backoff = 0.5
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                except asyncio.TimeoutError:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay for %s failed; retrying in %.1fs", self.schema, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)


class EventConsumer:
    """At-least-once consumer: the offset is committed only after the handler succeeds. A handler that
    keeps failing sends the event to the dead-letter topic (never a silent drop) and moves on."""

    def __init__(self, bootstrap: str, topics: list[str], group_id: str, handler: Handler,
                 producer: AIOKafkaProducer | None = None, max_attempts: int = 5):
        self.bootstrap, self.topics, self.group_id, self.handler = bootstrap, topics, group_id, handler
        self.producer, self.max_attempts = producer, max_attempts
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            *self.topics, bootstrap_servers=self.bootstrap, group_id=self.group_id,
            enable_auto_commit=False, auto_offset_reset="earliest",
            value_deserializer=lambda b: json.loads(b.decode()))
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.group_id}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer:
            await self._consumer.stop()

    async def _handle(self, msg) -> None:
        carrier = {k: v.decode() for k, v in (msg.headers or [])}
        token = otel_context.attach(propagate.extract(carrier))
        try:
            with tracer.start_as_current_span(f"consume {msg.topic}", kind=trace.SpanKind.CONSUMER,
                                              attributes={"messaging.system": "kafka",
                                                          "messaging.destination.name": msg.topic,
                                                          "seva.event_type": msg.value.get("type", "")}):
                await self.handler(msg.value)
        finally:
            otel_context.detach(token)

    async def _run(self) -> None:
        assert self._consumer is not None
        async for msg in self._consumer:
            for attempt in range(1, self.max_attempts + 1):
                try:
                    await self._handle(msg)
                    break
                except asyncio.CancelledError:
                    raise
                except DeadLetter as exc:
                    await self._dead_letter(msg, exc)
                    break
                except Exception as exc:
                    log.warning("%s: event %s failed (attempt %d): %r", self.group_id,
                                msg.value.get("event_id"), attempt, exc)
                    if attempt == self.max_attempts:
                        await self._dead_letter(msg, exc)
                    else:
                        await asyncio.sleep(min(0.2 * 2 ** attempt, 5))
            await self._consumer.commit()

    async def _dead_letter(self, msg, exc: Exception) -> None:
        from .events import CASES_DLQ_TOPIC
        log.error("%s: event %s sent to %s: %r", self.group_id, msg.value.get("event_id"), CASES_DLQ_TOPIC, exc)
        if self.producer is not None:
            await self.producer.send_and_wait(CASES_DLQ_TOPIC, {"consumer": self.group_id, "topic": msg.topic,
                                                                "error": repr(exc), "event": msg.value},
                                              key=str(msg.value.get("employee_id", "")))
