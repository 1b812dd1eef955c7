"""The operator's view of the dead-letter topics (`seva dlq list|show|replay`).

A dead letter (services/common/kafka.py) is a message parked with its reason: not an event at all, refused by its
handler (a signal for a case that does not exist yet, an SMS the gateway refused), an error nobody foresaw after a
few tries, or a part down longer than the consumer waits (docs/faults.md lists every reason). Once the cause is mended,
replay puts the original message back on its original topic with its key and headers; every consumer is
idempotent by event id, so a replay that reaches a consumer which had handled the event changes nothing."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from .events import DEAD_LETTER_TOPICS

# Reasons for which the message is not an event: replaying it can only dead-letter it again.
UNDECODABLE = {"empty", "not_json", "not_an_object", "invalid_envelope"}


@dataclass
class DeadLetterEntry:
    ref: str  # <dead-letter topic>:<partition>:<offset>, what `show` and `replay` take
    record: dict[str, Any]

    @property
    def reason(self) -> str:
        return str(self.record.get("reason", ""))

    def summary(self) -> str:
        r = self.record
        return (
            f"{self.ref}  {r.get('dead_lettered_at', '')[:19]}  {r.get('consumer')}  {r.get('reason')}  "
            f"{r.get('topic')}/{r.get('partition')}@{r.get('offset')}  key {r.get('key') or '-'}  "
            f"{r.get('event_type') or '-'}  "
            f"{r.get('error', '')[:80]}"
        )


async def _read_all(bootstrap: str, topics: list[str]) -> list[tuple[TopicPartition, int, bytes | None]]:
    """Every record now on the topics, read without a consumer group (reading commits nothing)."""
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        for _ in range(100):  # without a group the consumer assigns itself every partition, once it has metadata
            if consumer.assignment():
                break
            await asyncio.sleep(0.1)
        partitions = sorted(consumer.assignment())
        ends = await consumer.end_offsets(partitions) if partitions else {}
        pending = {tp for tp in partitions if ends[tp] > 0}
        out = []
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=2000)
            if not batch:
                break
            for tp, records in batch.items():
                out += [(tp, rec.offset, rec.value) for rec in records]
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        return out
    finally:
        await consumer.stop()


async def list_dead_letters(
    bootstrap: str, consumer_group: str | None = None, reason: str | None = None
) -> list[DeadLetterEntry]:
    entries = []
    for tp, offset, value in await _read_all(bootstrap, DEAD_LETTER_TOPICS):
        try:
            record = json.loads(value or b"{}")
        except ValueError:
            record = {"reason": "unreadable", "error": "the dead letter itself is not JSON"}
        entry = DeadLetterEntry(f"{tp.topic}:{tp.partition}:{offset}", record)
        if (consumer_group is None or record.get("consumer") == consumer_group) and (
            reason is None or entry.reason == reason
        ):
            entries.append(entry)
    return entries


async def _original_value(bootstrap: str, record: dict[str, Any]) -> bytes:
    """The message as it was: from the dead letter, or (if it was too big to carry) from its topic."""
    if not record.get("truncated"):
        return base64.b64decode(record.get("value_b64", ""))
    tp = TopicPartition(record["topic"], record["partition"])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        consumer.assign([tp])
        consumer.seek(tp, record["offset"])
        batch = await consumer.getmany(tp, timeout_ms=5000, max_records=1)
        records = batch.get(tp, [])
        if not records or records[0].offset != record["offset"]:
            raise LookupError(f"{record['topic']}/{record['partition']}@{record['offset']} is no longer on Kafka")
        value: bytes = records[0].value
        return value
    finally:
        await consumer.stop()


async def replay(bootstrap: str, entries: list[DeadLetterEntry], include_undecodable: bool = False) -> list[str]:
    """Put each dead letter's message back on its topic; returns what was done with each, in words."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    done = []
    try:
        for entry in entries:
            r = entry.record
            if entry.reason in UNDECODABLE and not include_undecodable:
                done.append(f"{entry.ref}: skipped, {entry.reason} can never be handled (--include-undecodable)")
                continue
            value = await _original_value(bootstrap, r)
            headers = [(k, base64.b64decode(v)) for k, v in (r.get("headers") or {}).items()]
            headers.append(("seva-replayed-from", entry.ref.encode()))
            await producer.send_and_wait(r["topic"], value, key=(r.get("key") or "").encode() or None, headers=headers)
            done.append(f"{entry.ref}: replayed to {r['topic']} (event {r.get('event_id') or '-'})")
    finally:
        await producer.stop()
    return done
