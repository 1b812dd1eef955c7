"""The outbox relay on the real PostgreSQL and Kafka, in a scratch schema of its own: two replicas relaying
one schema keep each employee's events in the order they were committed, and pruning keeps what is needed."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict

from aiokafka import AIOKafkaConsumer

from services.common.db import prune_delivered
from services.common.events import envelope, write_event
from services.common.kafka import OutboxRelay, ensure_topics, start_producer
from services.common.kernel_schema import outbox_sql

from .conftest import eventually

EMPLOYEES = [f"EMP-ORDER-{i}" for i in range(6)]


async def _scratch_schema(db) -> str:
    schema = f"relay_{uuid.uuid4().hex[:8]}"
    await db.execute(outbox_sql(schema))
    return schema


async def test_two_replicas_relaying_one_schema_keep_each_employees_events_in_commit_order(stack, db):
    schema = await _scratch_schema(db)
    topic = f"t-order-{uuid.uuid4().hex[:8]}"
    await ensure_topics(stack.kafka_bootstrap, [topic], partitions=4)
    producers = [await start_producer(stack.kafka_bootstrap) for _ in range(2)]
    relays = [OutboxRelay(db, schema, p, batch=7) for p in producers]
    total = 600
    try:
        for relay in relays:
            await relay.start()
        for n in range(total):  # committed one by one while both relays run
            async with db.acquire() as conn, conn.transaction():
                await write_event(
                    conn, schema, topic, envelope("x.step", schema, EMPLOYEES[n % len(EMPLOYEES)], {"n": n})
                )
        await eventually(
            lambda: db.fetchval(f"SELECT count(*) = 0 FROM {schema}.outbox WHERE published_at IS NULL"),
            what="every row relayed",
        )
    finally:
        for relay in relays:
            await relay.stop()
        for p in producers:
            await p.stop()

    seen: dict[str, list[int]] = defaultdict(list)
    reader = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=f"r-{uuid.uuid4()}",
        enable_auto_commit=False,
    )
    await reader.start()
    try:

        async def all_read():
            for records in (await reader.getmany(timeout_ms=500)).values():
                for r in records:
                    event = json.loads(r.value)
                    seen[event["employee_id"]].append(event["data"]["n"])
            return sum(len(v) for v in seen.values()) >= total

        await eventually(all_read, what="every event read back")
    finally:
        await reader.stop()
    for employee, numbers in seen.items():
        first_seen = list(dict.fromkeys(numbers))  # a re-send after a crash may repeat; never reorder
        assert first_seen == sorted(first_seen), f"{employee}'s events out of commit order"
        assert len(first_seen) == total // len(EMPLOYEES)


async def test_pruning_removes_only_what_is_delivered_and_past_its_retention(stack, db):
    schema = await _scratch_schema(db)
    async with db.acquire() as conn, conn.transaction():
        ids = [await write_event(conn, schema, "t", envelope("x", schema, "EMP", {"n": n})) for n in range(3)]
        await conn.execute(
            f"INSERT INTO {schema}.inbox (consumer, event_id, processed_at) VALUES "
            f"('c', $1, now() - interval '40 days'), ('c', $2, now())",
            uuid.uuid4(),
            uuid.uuid4(),
        )
    # old and published / old but never published / published just now
    await db.execute(
        f"UPDATE {schema}.outbox SET created_at = now() - interval '9 days', "
        f"published_at = now() - interval '8 days' WHERE event_id = $1",
        uuid.UUID(ids[0]),
    )
    await db.execute(
        f"UPDATE {schema}.outbox SET created_at = now() - interval '9 days' WHERE event_id = $1", uuid.UUID(ids[1])
    )
    await db.execute(f"UPDATE {schema}.outbox SET published_at = now() WHERE event_id = $1", uuid.UUID(ids[2]))
    await prune_delivered(db, schema, outbox_keep_hours=7 * 24, inbox_keep_hours=30 * 24)
    left = {str(r["event_id"]) for r in await db.fetch(f"SELECT event_id FROM {schema}.outbox")}
    assert left == {ids[1], ids[2]}
    assert await db.fetchval(f"SELECT count(*) FROM {schema}.inbox") == 1


async def test_a_relay_whose_kafka_does_not_answer_gives_up_in_bounded_time_and_says_so(stack, db):
    """With every broker down the relay waited on Kafka inside its transaction, holding a connection, and its
    failure count never moved: readiness said ready for the whole outage. Here Kafka (the boundary) takes the
    batch and never acknowledges it."""

    schema = await _scratch_schema(db)
    async with db.acquire() as conn, conn.transaction():
        await write_event(conn, schema, "t-never", envelope("x.happened", "test", "EMP-HANG", {}))

    class _Silent:
        async def send(self, *args, **kwargs):
            return asyncio.get_running_loop().create_future()  # never acknowledged

    relay = OutboxRelay(db, schema, _Silent(), publish_timeout=0.5)  # type: ignore[arg-type]
    relay.health.stall_after = 0.5
    try:
        await relay.start()
        problem = await eventually(
            lambda: _async(relay.health.problem()), what="the relay reported failing", timeout=20
        )
        assert "TimeoutError" in problem and relay.health.failures >= 1
        assert await db.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL") == 1
    finally:
        await relay.stop()


async def _async(value):
    await asyncio.sleep(0)
    return value


async def test_a_producer_the_brokers_refuse_for_good_is_renewed_and_the_outbox_drains(stack, db):
    """After the whole cluster was down for a minute, every relay's idempotent producer was refused with
    OutOfOrderSequenceNumber on every send, for good: the services stayed unready and no event left an outbox.
    Here the brokers' refusal is played once on the real producer; the relay must renew it and publish."""
    from aiokafka.errors import OutOfOrderSequenceNumber

    schema = await _scratch_schema(db)
    topic = f"t-renew-{uuid.uuid4().hex[:8]}"
    await ensure_topics(stack.kafka_bootstrap, [topic], partitions=1)
    producer = await start_producer(stack.kafka_bootstrap)
    refused_once = producer._current
    real_send = refused_once.send

    async def refused(*args, **kwargs):
        future = asyncio.get_running_loop().create_future()
        future.set_exception(OutOfOrderSequenceNumber())
        return future

    refused_once.send = refused
    async with db.acquire() as conn, conn.transaction():
        await write_event(conn, schema, topic, envelope("x.happened", "test", "EMP-RENEW", {}))
    relay = OutboxRelay(db, schema, producer)
    try:
        await relay.start()
        await eventually(
            lambda: db.fetchval(f"SELECT count(*) = 0 FROM {schema}.outbox WHERE published_at IS NULL"),
            what="the row published by the renewed producer",
            timeout=30,
        )
        assert producer.renewals == 1 and producer._current is not refused_once
    finally:
        refused_once.send = real_send
        await relay.stop()
        await producer.stop()
