"""The consumer loop (services/common/kafka.py) on the real Kafka broker, each test on topics of its own.
The handler is the test's (the boundary); the loop, its retries, dead letters and commits are the real ones."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.common.events import envelope
from services.common.health import ComponentHealth
from services.common.kafka import DeadLetter, EventConsumer, ensure_topics, start_producer

from .conftest import eventually


async def _topics(stack, group: str) -> tuple[str, str]:
    topic, dlq = f"t-{uuid.uuid4().hex[:8]}", f"dlq.{group}"
    await ensure_topics(stack.kafka_bootstrap, [topic, dlq], partitions=1)
    return topic, dlq


async def _dead_letters(stack, dlq: str) -> list[dict[str, Any]]:
    reader = AIOKafkaConsumer(
        dlq,
        bootstrap_servers=stack.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=f"r-{uuid.uuid4()}",
        enable_auto_commit=False,
    )
    await reader.start()
    try:
        batch = await reader.getmany(timeout_ms=1500)
        return [json.loads(r.value) for records in batch.values() for r in records]
    finally:
        await reader.stop()


async def test_poison_messages_are_dead_lettered_with_their_reason_and_the_valid_ones_after_them_are_handled(stack):
    group = f"t.poison-{uuid.uuid4().hex[:6]}"
    topic, dlq = await _topics(stack, group)
    handled: list[str] = []

    async def handler(event: dict[str, Any]) -> None:
        if event["data"].get("refuse"):
            raise DeadLetter("this handler never takes it")
        if event["data"].get("broken"):
            event["data"]["missing"]  # a KeyError: the content is wrong, retrying cannot help
        handled.append(event["event_id"])

    producer = await start_producer(stack.kafka_bootstrap)
    consumer = EventConsumer(stack.kafka_bootstrap, [topic], group, handler, producer)
    good = [envelope("x.happened", "test", "EMP1", {"n": i}) for i in range(3)]
    poison = [
        b"\xff\xfenot json",
        b"[1, 2, 3]",
        b'"a string"',
        json.dumps({"no": "envelope"}).encode(),
        json.dumps({"event_id": "not-a-uuid", "type": "x", "employee_id": "EMP1"}).encode(),
        json.dumps({**envelope("x", "t", "EMP1", {}), "padding": "x" * 900_000}).encode()[:-2] + b'"',
        json.dumps(envelope("x.refused", "test", "EMP1", {"refuse": True})).encode(),
        json.dumps(envelope("x.broken", "test", "EMP1", {"broken": True})).encode(),
    ]
    try:
        for value in [poison[0], json.dumps(good[0]).encode(), *poison[1:], json.dumps(good[1]).encode()]:
            await producer.send_and_wait(topic, value, key="EMP1")
        await consumer.start()
        await eventually(lambda: _async(len(handled) == 2), what="the valid events handled")
        await producer.send_and_wait(topic, json.dumps(good[2]).encode(), key="EMP1")
        await eventually(lambda: _async(len(handled) == 3), what="the loop still running")
        assert handled == [g["event_id"] for g in good]
        letters = await eventually(lambda: _letters_at_least(stack, dlq, len(poison)), what="dead letters")
        assert [d["reason"] for d in letters] == [
            "not_json",
            "not_an_object",
            "not_an_object",
            "invalid_envelope",
            "invalid_envelope",
            "not_json",
            "refused_by_handler",
            "invalid_content",
        ]
        assert base64.b64decode(letters[0]["value_b64"]) == poison[0]  # kept exactly, for replay
        assert letters[5]["truncated"] and letters[5]["size"] == len(poison[5]) and not letters[0]["truncated"]
        assert all(d["topic"] == topic and d["consumer"] == group and d["key"] == "EMP1" for d in letters)
        assert consumer.health.dead_letters == {
            "not_json": 2,
            "not_an_object": 2,
            "invalid_envelope": 2,
            "refused_by_handler": 1,
            "invalid_content": 1,
        }
        assert consumer.health.problem() is None
    finally:
        await consumer.stop()
        await producer.stop()


async def test_a_transient_failure_is_retried_until_it_succeeds_and_never_dead_lettered(stack):
    """Temporal or PostgreSQL down for longer than any fixed number of attempts: the event waits, in order."""
    group = f"t.transient-{uuid.uuid4().hex[:6]}"
    topic, dlq = await _topics(stack, group)
    attempts: dict[int, int] = {}
    handled: list[int] = []

    async def handler(event: dict[str, Any]) -> None:
        n = event["data"]["n"]
        attempts[n] = attempts.get(n, 0) + 1
        if n == 0 and attempts[n] <= 8:
            raise ConnectionRefusedError("the case engine is down")
        handled.append(n)

    producer = await start_producer(stack.kafka_bootstrap)
    health = ComponentHealth(f"consumer-{group}", "consumer", stall_after=0.5)
    consumer = EventConsumer(stack.kafka_bootstrap, [topic], group, handler, producer, health=health, retry_ceiling=0.3)
    try:
        for n in range(3):
            await producer.send_and_wait(topic, envelope("x.happened", "test", "EMP2", {"n": n}), key="EMP2")
        await consumer.start()
        stalled = await eventually(lambda: _async(health.problem()), what="the consumer reported stalled")
        assert "ConnectionRefusedError" in stalled and handled == []  # held in place: nothing overtakes it
        await eventually(lambda: _async(handled == [0, 1, 2]), what="every event handled, in order")
        assert attempts[0] == 9 and health.problem() is None
        assert await _dead_letters(stack, dlq) == []
    finally:
        await consumer.stop()
        await producer.stop()


async def test_an_unforeseen_error_is_parked_after_a_few_quick_tries_and_the_partition_moves_on(stack):
    """A well-formed event the handler did not foresee (here a RuntimeError, not a content error) used to be
    retried forever, holding every partition of the consumer behind it."""
    group = f"t.unforeseen-{uuid.uuid4().hex[:6]}"
    topic, dlq = await _topics(stack, group)
    attempts: dict[int, int] = {}
    handled: list[int] = []

    async def handler(event: dict[str, Any]) -> None:
        n = event["data"]["n"]
        attempts[n] = attempts.get(n, 0) + 1
        if n == 1:
            raise RuntimeError("nobody thought of this")
        handled.append(n)

    producer = await start_producer(stack.kafka_bootstrap)
    consumer = EventConsumer(stack.kafka_bootstrap, [topic], group, handler, producer, retry_ceiling=0.3)
    try:
        for n in range(4):
            await producer.send_and_wait(topic, envelope("x.happened", "test", "EMP4", {"n": n}), key="EMP4")
        await consumer.start()
        await eventually(lambda: _async(handled == [0, 2, 3]), what="the events after it handled", timeout=30)
        assert attempts[1] == 3
        [letter] = await eventually(lambda: _letters_at_least(stack, dlq, 1), what="the dead letter")
        assert letter["reason"] == "unexpected_error" and "RuntimeError: nobody thought of this" in letter["error"]
        assert consumer.health.dead_letters == {"unexpected_error": 1} and consumer.health.problem() is None
    finally:
        await consumer.stop()
        await producer.stop()


async def test_legal_variations_of_a_message_are_handled_not_parked(stack):
    """A producer may send no key, an empty or non-ASCII key, a header with no value, a header twice, or a
    trace header that is not a trace: none of these makes the event any less an event."""
    group = f"t.varied-{uuid.uuid4().hex[:6]}"
    topic, dlq = await _topics(stack, group)
    handled: list[int] = []

    async def handler(event: dict[str, Any]) -> None:
        handled.append(event["data"]["n"])

    producer = await start_producer(stack.kafka_bootstrap)
    raw = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    await raw.start()
    consumer = EventConsumer(stack.kafka_bootstrap, [topic], group, handler, producer, retry_ceiling=0.3)
    variations: list[tuple[bytes | None, list[Any]]] = [
        (None, []),
        (b"", []),
        ("कर्मचारी".encode(), []),
        (b"EMP6", [("x-null", None)]),
        (b"EMP6", [("x", b"1"), ("x", b"2")]),
        (b"EMP6", [("traceparent", b"\xff\xfe not a trace")]),
    ]
    try:
        for n, (key, headers) in enumerate(variations):
            value = json.dumps(envelope("x.happened", "test", "EMP6", {"n": n})).encode()
            await raw.send_and_wait(topic, value, key=key, headers=headers)
        await consumer.start()
        await eventually(lambda: _async(sorted(handled) == list(range(len(variations)))), what="every one handled")
        assert await _dead_letters(stack, dlq) == []
    finally:
        await consumer.stop()
        await raw.stop()
        await producer.stop()


async def test_a_transient_failure_that_outlasts_the_limit_is_parked_saying_so(stack):
    group = f"t.outlasted-{uuid.uuid4().hex[:6]}"
    topic, dlq = await _topics(stack, group)
    handled: list[int] = []

    async def handler(event: dict[str, Any]) -> None:
        if event["data"]["n"] == 0:
            raise ConnectionRefusedError("the gateway is down")
        handled.append(event["data"]["n"])

    producer = await start_producer(stack.kafka_bootstrap)
    consumer = EventConsumer(
        stack.kafka_bootstrap, [topic], group, handler, producer, retry_ceiling=0.2, transient_limit=2.0
    )
    try:
        for n in range(2):
            await producer.send_and_wait(topic, envelope("x.happened", "test", "EMP5", {"n": n}), key="EMP5")
        await consumer.start()
        await eventually(lambda: _async(handled == [1]), what="the event after it handled", timeout=30)
        [letter] = await eventually(lambda: _letters_at_least(stack, dlq, 1), what="the dead letter")
        assert letter["reason"] == "transient_outlasted" and "still failing after" in letter["tries"]
    finally:
        await consumer.stop()
        await producer.stop()


async def test_the_consumer_comes_back_after_its_loop_dies(stack):
    """Whatever ends the loop (here: the commit itself fails), the supervisor starts it again."""
    group = f"t.restart-{uuid.uuid4().hex[:6]}"
    topic, _ = await _topics(stack, group)
    handled: list[int] = []

    async def handler(event: dict[str, Any]) -> None:
        handled.append(event["data"]["n"])

    producer = await start_producer(stack.kafka_bootstrap)
    consumer = EventConsumer(stack.kafka_bootstrap, [topic], group, handler, producer, retry_ceiling=0.3)
    original = consumer._consume
    crashes: list[int] = []

    async def crashing_once(kafka_consumer):
        if not crashes:
            crashes.append(1)
            raise RuntimeError("the loop died")
        await original(kafka_consumer)

    consumer._consume = crashing_once  # type: ignore[method-assign]
    try:
        await consumer.start()
        await producer.send_and_wait(topic, envelope("x.happened", "test", "EMP3", {"n": 1}), key="EMP3")
        await eventually(lambda: _async(handled == [1]), what="handled after the restart")
        assert consumer.health.restarts == 1 and consumer.health.problem() is None
    finally:
        await consumer.stop()
        await producer.stop()


async def _letters_at_least(stack, dlq: str, n: int):
    letters = await _dead_letters(stack, dlq)
    return letters if len(letters) >= n else None


async def _async(value):
    await asyncio.sleep(0)
    return value
