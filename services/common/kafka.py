"""Kafka: the outbox relay (database -> Kafka), the at-least-once consumer loop (Kafka -> handler) and the
watch on the cluster that readiness reads.

The promise: nothing is lost, nothing stops silently, and one message never holds a partition for good. Only a
failure known to pass (services/common/errors.is_transient: a part down, a timeout) is retried, with backoff, for
up to `transient_limit` (30 minutes by default: longer than an ordinary outage of any one part); a message still
failing then is parked with reason `transient_outlasted`. Anything else (an error nobody foresaw, a bug, a
gateway's refusal) gets `quick_tries` quick tries and is parked (`unexpected_error`, or the handler's own reason);
a message that is not an event at all is parked at once. Parked means on the consumer's own dead-letter topic,
with its reason, from which `seva dlq replay` puts it back once the cause is mended; the partition moves on.
Each loop is supervised (a crash restarts it) and reports its state to the process's readiness
(services/common/health.py)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    IllegalStateError,
    InvalidProducerEpoch,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    TopicAlreadyExistsError,
    UnknownProducerId,
)
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from .errors import is_transient
from .events import dead_letter_topic, parse_envelope
from .health import ComponentHealth

log = logging.getLogger("seva.kafka")
tracer = trace.get_tracer("seva.kafka")

Handler = Callable[[dict[str, Any]], Awaitable[None]]
DEAD_LETTER_VALUE_LIMIT = 256 * 1024  # bytes of the original message a dead letter carries


class DeadLetter(Exception):
    """Raised by a handler for an event that can never be handled: it goes to the dead-letter topic at once,
    with the handler's reason code (`seva dlq list` shows it; docs/faults.md says what each means)."""

    reason = "refused_by_handler"

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        if reason:
            self.reason = reason


class Poison(DeadLetter):
    """A message that is not an event at all (not JSON, not an object, not an envelope)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


# Errors that say the message's content is wrong, not that something is down: retrying cannot help.
CONTENT_ERRORS: tuple[type[BaseException], ...] = (KeyError, TypeError, ValueError, asyncpg.DataError)
# How long a message is retried while a part it needs is down (SEVA_CONSUMER_TRANSIENT_LIMIT_SECONDS): the
# longest ordinary outage the fault suite plays is the SMS gateway down for 10 minutes; 30 minutes outlives it
# and a restart of any part, while a part down longer than that is an incident an operator is already on, and
# what it held is parked with its reason to be replayed, not lost.
TRANSIENT_LIMIT_SECONDS = 1800.0
# An unforeseen error is tried this many times in all, a fraction of a second apart (a race that a second look
# settles), then parked.
QUICK_TRIES = 3
# Kafka unreachable this long makes a process unready: long enough that one broker's restart (the cluster runs
# on) or a leader election does not flap readiness, short enough that an operator sees a cluster outage in
# the first minute.
KAFKA_STALL_AFTER = 30.0


def backoff_delay(attempt: int, initial: float = 0.2, ceiling: float = 30.0) -> float:
    """Exponential backoff with full jitter, so replicas retrying one outage do not stampede its return."""
    return random.uniform(initial, min(ceiling, initial * 2**attempt))


# Errors after which an idempotent producer cannot go on: its sequence numbers or its producer id no longer agree
# with the brokers' (seen after the whole cluster was down for a minute: batches that expired in the outage left a
# gap, and every later send was refused with OutOfOrderSequenceNumber, for good). A new producer starts afresh.
FATAL_PRODUCER_ERRORS: tuple[type[BaseException], ...] = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
    IllegalStateError,
)


async def _new_producer(bootstrap: str) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        value_serializer=lambda v: v if isinstance(v, bytes) else json.dumps(v).encode(),
        key_serializer=str.encode,
    )
    await producer.start()
    return producer


class Producer:
    """The process's Kafka producer: acks=all + idempotent, so with min.insync.replicas=2 an acknowledged event
    survives one broker's loss and a retried send is never written twice. Renewed (a new producer id, sequence
    numbers from zero) when the brokers refuse it for good (FATAL_PRODUCER_ERRORS): the rows it could not send
    are still in the outbox, and whatever reaches Kafka twice is a copy consumers ignore by event id."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None
        self.renewals = 0

    @property
    def _current(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the producer has not been started")
        return self._producer

    @property
    def client(self) -> Any:
        return self._current.client

    async def start(self) -> None:
        self._producer = await _new_producer(self.bootstrap)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def send(self, topic: str, value: Any, key: str | None = None, headers: Any = None) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = await self._current.send(topic, value, key=key, headers=headers)
        return future

    async def send_and_wait(self, topic: str, value: Any, key: str | None = None, headers: Any = None) -> Any:
        try:
            return await self._current.send_and_wait(topic, value, key=key, headers=headers)
        except FATAL_PRODUCER_ERRORS:
            await self.renew()
            raise

    async def renew(self) -> None:
        old, self._producer = self._producer, await _new_producer(self.bootstrap)
        self.renewals += 1
        log.warning("Kafka producer renewed (%d): the brokers refused the old one for good", self.renewals)
        if old is not None:
            try:
                await asyncio.wait_for(old.stop(), timeout=10)
            except Exception:
                pass  # its pending batches are the outbox's to send again


async def start_producer(bootstrap: str) -> Producer:
    producer = Producer(bootstrap)
    await producer.start()
    return producer


async def ensure_topics(bootstrap: str, topics: list[str], partitions: int = 4, replication: int = 1) -> None:
    """Create the project's topics (auto-creation is off on our brokers). With three brokers the stack asks for
    replication 3 and min.insync.replicas 2."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        configs = {"min.insync.replicas": "2"} if replication >= 3 else {}
        wanted = [
            NewTopic(t, num_partitions=partitions, replication_factor=replication, topic_configs=configs)
            for t in topics
            if t not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


class OutboxRelay:
    """Moves committed outbox rows to Kafka, oldest first, marking each published only after Kafka acks.
    A crash between the send and the mark re-sends the row: consumers are idempotent by event id.

    Order: one relay at a time per schema (a transaction-scoped advisory lock), so when two replicas of a
    service relay one schema, events still reach Kafka in outbox order, and one employee's events (one key,
    one partition) reach every consumer in the order they were committed."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        producer: Producer,
        batch: int = 500,
        health: ComponentHealth | None = None,
        prune: Callable[[], Awaitable[None]] | None = None,
        prune_every: float = 600.0,
        publish_timeout: float = 20.0,
    ):
        self.pool, self.schema, self.producer, self.batch = pool, schema, producer, batch
        self.publish_timeout = publish_timeout
        self.health = health or ComponentHealth(f"outbox-relay-{schema}", "relay")
        self._prune, self._prune_every, self._pruned_at = prune, prune_every, 0.0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[Any] | None = None
        self._listen_conn: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"outbox-relay-{self.schema}")

    async def _supervise(self) -> None:
        """The relay loop retries every failure itself; should it still end, it is logged and started again."""
        while True:
            try:
                await self._run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.health.restarts += 1
                self.health.failed(exc, state="restarting")
                log.exception("outbox relay for %s ended; restarting", self.schema)
                await self._drop_listener()
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._drop_listener()
        self.health.state = "stopped"

    async def _listen(self) -> None:
        """Wake on NOTIFY from a committing transaction, on a connection of its own (taken afresh after any
        failure: one held across a database restart is dead)."""
        if self._listen_conn is not None:
            return
        conn = await self.pool.acquire()
        try:
            await conn.add_listener(f"{self.schema}_outbox", lambda *_: self._wake.set())
        except BaseException:
            await self.pool.release(conn)
            raise
        self._listen_conn = conn

    async def _drop_listener(self) -> None:
        """Give the listening connection back, whatever state it is in; never raises."""
        conn, self._listen_conn = self._listen_conn, None
        if conn is None:
            return
        try:
            await self.pool.release(conn, timeout=5)
        except Exception:
            try:
                conn.terminate()
            except Exception:
                pass  # already closed and handed back by the pool

    async def relay_once(self) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext($1))", f"outbox-{self.schema}"):
                return 0  # another replica is relaying this schema
            rows = await conn.fetch(
                f"SELECT id, topic, key, payload, headers FROM {self.schema}.outbox WHERE published_at IS NULL "
                f"ORDER BY id LIMIT $1",
                self.batch,
            )
            if not rows:
                return 0
            # Kafka gets a bounded time to take the batch: while it is down the relay fails (and shows it in
            # readiness and its failure count) instead of waiting inside the transaction, holding a connection.
            # A batch that timed out may still reach Kafka later; sent again, it is a copy consumers ignore.
            await self._send(rows)
            await conn.execute(
                f"UPDATE {self.schema}.outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                [r["id"] for r in rows],
            )
            return len(rows)

    async def _send(self, rows: list[Any]) -> None:
        futures = [
            await self.producer.send(
                r["topic"],
                r["payload"],
                key=r["key"],
                headers=[(k, v.encode()) for k, v in (r["headers"] or {}).items()],
            )
            for r in rows
        ]
        # Waited for, not cancelled: a batch cancelled half-way leaves the idempotent producer's sequence in doubt.
        done, pending = await asyncio.wait(futures, timeout=self.publish_timeout)
        for future in done:
            if future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        if pending:
            raise TimeoutError(f"Kafka took {len(done)} of {len(futures)} events in {self.publish_timeout:.0f} s")

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._listen()
                while await self.relay_once():
                    pass
                if self._prune and time.monotonic() - self._pruned_at >= self._prune_every:
                    await self._prune()
                    self._pruned_at = time.monotonic()
                attempt = 0
                self.health.ok()
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                except TimeoutError:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                self.health.failed(exc)
                if isinstance(exc, FATAL_PRODUCER_ERRORS) and isinstance(self.producer, Producer):
                    await self.producer.renew()
                delay = backoff_delay(attempt, 0.5, 10)
                (log.exception if attempt == 1 else log.warning)(
                    "outbox relay for %s failed (attempt %d); retrying in %.1fs: %r", self.schema, attempt, delay, exc
                )
                await self._drop_listener()
                await asyncio.sleep(delay)


class KafkaWatch:
    """Asks the cluster for its metadata every few seconds over the process's own producer. A consumer waiting
    on a cluster that is gone raises nothing (it waits), and a relay may have nothing to send: this is what
    makes a process that can neither publish nor consume say so in readiness, and which part it waits for."""

    def __init__(self, producer: Producer, bootstrap: str, health: ComponentHealth, every: float = 5.0):
        self.producer, self.bootstrap, self.health, self.every = producer, bootstrap, health, every
        self._task: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kafka-watch")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def check(self) -> None:
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout=self.every * 2)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.health.failed(f"waiting for Kafka at {self.bootstrap}: no broker answers ({type(exc).__name__})")
        else:
            self.health.ok()

    async def _run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.every)


def _decode(value: bytes | None) -> dict[str, Any]:
    """The message as an event envelope, or Poison with the reason it can never be one."""
    if value is None:
        raise Poison("empty", "the message has no value")
    try:
        decoded = json.loads(value)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Poison("not_json", f"the message is not JSON: {exc}") from exc
    if not isinstance(decoded, dict):
        raise Poison("not_an_object", f"the message is JSON but not an object ({type(decoded).__name__})")
    try:
        return parse_envelope(decoded)
    except ValueError as exc:
        raise Poison("invalid_envelope", f"the message is not an event envelope: {exc}") from exc


class EventConsumer:
    """At-least-once consumer: the offset is committed only after the handler succeeded or the message went
    to the dead-letter topic. One message at a time, in partition order; a transient failure holds the
    position and is retried with backoff up to `transient_limit` (after `stall_after` seconds the process
    reports unready); any other failure is parked after `quick_tries` (see the module's docstring)."""

    def __init__(
        self,
        bootstrap: str,
        topics: list[str],
        group_id: str,
        handler: Handler,
        producer: Producer | None = None,
        health: ComponentHealth | None = None,
        retry_ceiling: float = 30.0,
        transient_limit: float = TRANSIENT_LIMIT_SECONDS,
        quick_tries: int = QUICK_TRIES,
    ):
        self.bootstrap, self.topics, self.group_id, self.handler = bootstrap, topics, group_id, handler
        self.producer, self.retry_ceiling = producer, retry_ceiling
        self.transient_limit, self.quick_tries = transient_limit, quick_tries
        self.dead_letter_topic = dead_letter_topic(group_id)
        self.health = health or ComponentHealth(f"consumer-{group_id}", "consumer")
        self._task: asyncio.Task[Any] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        # per partition: the next offset to take (committed or about to be), and the message being handled
        # (its Kafka timestamp, seconds) while it is: what /metrics reads as lag and as the age of a held message
        self._next: dict[tuple[str, int], int] = {}
        self._on: dict[tuple[str, int], float] = {}
        self.health.partitions = self.partitions

    async def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"consumer-{self.group_id}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.health.state = "stopped"

    async def _supervise(self) -> None:
        """Run the loop; if it ever ends (Kafka gone, a bug), log it, report it and start it again."""
        attempt = 0
        while True:
            consumer = AIOKafkaConsumer(
                *self.topics,
                bootstrap_servers=self.bootstrap,
                group_id=self.group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
            self._consumer = consumer
            try:
                await consumer.start()
                self.health.ok()
                attempt = 0
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                self.health.restarts += 1
                self.health.failed(exc, state="restarting")
                log.exception("%s: consumer loop ended; restarting (attempt %d)", self.group_id, attempt)
                await asyncio.sleep(backoff_delay(attempt, 0.5, self.retry_ceiling))
            finally:
                try:
                    await asyncio.wait_for(consumer.stop(), timeout=10)
                except Exception:
                    log.warning("%s: consumer did not stop cleanly", self.group_id)

    def partitions(self) -> dict[tuple[str, int], tuple[int, float]]:
        """Each assigned partition's lag (the broker's high watermark as last fetched, less the next offset this
        consumer takes) and the age of the message it is on (0 between messages)."""
        consumer = self._consumer
        if consumer is None:
            return {}
        now, found = time.time(), {}
        try:
            assigned = consumer.assignment()
        except Exception:  # not started, or mid-rebalance: nothing to say yet
            return {}
        for tp in assigned:
            key = (tp.topic, tp.partition)
            high = consumer.highwater(tp)
            behind = max(0, high - self._next[key]) if high is not None and key in self._next else 0
            since = self._on.get(key)
            found[key] = (behind, max(0.0, now - since) if since is not None else 0.0)
        return found

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        async for msg in consumer:
            key = (msg.topic, msg.partition)
            self._next[key] = msg.offset
            self._on[key] = (msg.timestamp / 1000) if msg.timestamp and msg.timestamp > 0 else time.time()
            try:
                await self._process(msg)
            finally:
                self._on.pop(key, None)
            self._next[key] = msg.offset + 1
            try:
                await consumer.commit({TopicPartition(msg.topic, msg.partition): msg.offset + 1})
            except Exception as exc:  # lost the partition in a rebalance, or Kafka went away: redelivered later
                log.warning(
                    "%s: commit of %s/%d@%d failed (the message may come again): %r",
                    self.group_id,
                    msg.topic,
                    msg.partition,
                    msg.offset,
                    exc,
                )
            self.health.ok()

    async def _process(self, msg: Any) -> None:
        try:
            event = _decode(msg.value)
        except Poison as poison:
            await self._dead_letter(msg, None, poison.reason, poison)
            return
        tries, first_failure = 0, 0.0
        while True:
            try:
                await self._handle(msg, event)
                return
            except asyncio.CancelledError:
                raise
            except DeadLetter as exc:
                await self._dead_letter(msg, event, exc.reason, exc)
                return
            except CONTENT_ERRORS as exc:
                await self._dead_letter(msg, event, "invalid_content", exc)
                return
            except Exception as exc:
                tries += 1
                first_failure = first_failure or time.monotonic()
                failing_for = time.monotonic() - first_failure
                transient = is_transient(exc)
                if transient and failing_for >= self.transient_limit:
                    await self._dead_letter(
                        msg,
                        event,
                        "transient_outlasted",
                        exc,
                        f"still failing after {failing_for:.0f} s, {tries} tries",
                    )
                    return
                if not transient and tries >= self.quick_tries:
                    await self._dead_letter(msg, event, "unexpected_error", exc, f"{tries} tries")
                    return
                self.health.failed(exc)
                delay = backoff_delay(tries, 0.2, self.retry_ceiling) if transient else 0.2 * tries
                if tries == 1 or tries % 10 == 0:
                    log.warning(
                        "%s: event %s failed (try %d, %s), again in %.1fs: %r",
                        self.group_id,
                        event.get("event_id"),
                        tries,
                        "transient" if transient else "unforeseen",
                        delay,
                        exc,
                    )
                await asyncio.sleep(delay)

    async def _handle(self, msg: Any, event: dict[str, Any]) -> None:
        carrier = {k: (v or b"").decode(errors="replace") for k, v in (msg.headers or [])}  # a header may be null
        token = otel_context.attach(propagate.extract(carrier))
        try:
            with tracer.start_as_current_span(
                f"consume {msg.topic}",
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": msg.topic,
                    "seva.event_type": event["type"],
                },
            ):
                await self.handler(event)
        finally:
            otel_context.detach(token)

    async def _dead_letter(
        self, msg: Any, event: dict[str, Any] | None, reason: str, exc: BaseException, how: str = ""
    ) -> None:
        """The message as it came (bytes, key, headers) with where it came from and why, so it can be read
        and replayed exactly. The send is retried until Kafka takes it: a dead letter is never dropped."""
        log.error(
            "%s: %s/%d@%d (event %s) dead-lettered to %s, %s: %s",
            self.group_id,
            msg.topic,
            msg.partition,
            msg.offset,
            event.get("event_id") if event else "-",
            self.dead_letter_topic,
            reason,
            exc,
        )
        value = msg.value or b""
        record = {
            "consumer": self.group_id,
            "topic": msg.topic,
            "partition": msg.partition,
            "offset": msg.offset,
            "key": msg.key.decode(errors="replace") if msg.key else None,
            "reason": reason,
            "error": f"{type(exc).__name__}: {exc}"[:500],
            "tries": how,
            "event_id": event.get("event_id") if event else None,
            "event_type": event.get("type") if event else None,
            "dead_lettered_at": datetime.now(UTC).isoformat(),
            "size": len(value),
            "sha256": hashlib.sha256(value).hexdigest(),
            # a message too big to carry whole (base64 grows it by a third) keeps its head; replay then reads
            # the whole message from its topic, partition and offset
            "truncated": len(value) > DEAD_LETTER_VALUE_LIMIT,
            "value_b64": base64.b64encode(value[:DEAD_LETTER_VALUE_LIMIT]).decode(),
            "headers": {k: base64.b64encode(v or b"").decode() for k, v in (msg.headers or [])},
        }
        attempt = 0
        while self.producer is not None:
            try:
                await self.producer.send_and_wait(self.dead_letter_topic, record, key=record["key"] or "")
                break
            except asyncio.CancelledError:
                raise
            except Exception as send_error:
                attempt += 1
                self.health.failed(send_error)
                log.warning("%s: dead-letter send failed (attempt %d): %r", self.group_id, attempt, send_error)
                await asyncio.sleep(backoff_delay(attempt, 0.2, self.retry_ceiling))
        self.health.dead_letters[reason] += 1
