"""Readiness through a Kafka outage (services/common/kafka.KafkaWatch): a consumer waiting on a cluster that is
gone raises nothing, and a relay with nothing to send fails nothing, so with all brokers down for 3 minutes every
/readyz said ready. The watch asks the cluster for its metadata; here the client's answer is the boundary faked."""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaConnectionError

from services.common.health import ComponentHealth, Health
from services.common.kafka import KafkaWatch


class _Client:
    def __init__(self) -> None:
        self.up = True

    async def fetch_all_metadata(self):
        if not self.up:
            raise KafkaConnectionError("no broker answers")
        return object()


class _Producer:
    def __init__(self) -> None:
        self.client = _Client()


async def test_a_process_whose_kafka_is_gone_is_unready_naming_kafka_and_ready_again_when_it_is_back():
    producer = _Producer()
    health = Health()
    component: ComponentHealth = health.add("kafka", "broker", stall_after=0.2)
    watch = KafkaWatch(producer, "127.0.0.1:25092", component, every=0.05)  # type: ignore[arg-type]
    await watch.check()
    assert health.report()["ready"]

    producer.client.up = False
    await watch.start()
    await asyncio.sleep(0.5)
    report = health.report()
    assert not report["ready"]
    assert "waiting for Kafka at 127.0.0.1:25092" in report["components"][0]["problem"]

    producer.client.up = True
    await asyncio.sleep(0.2)
    assert health.report()["ready"]
    await watch.stop()


async def test_a_metadata_request_that_hangs_counts_as_kafka_gone():
    class _Hanging(_Client):
        async def fetch_all_metadata(self):
            await asyncio.sleep(60)

    producer = _Producer()
    producer.client = _Hanging()
    component = ComponentHealth("kafka", "broker", stall_after=0.0)
    watch = KafkaWatch(producer, "b:1", component, every=0.05)  # type: ignore[arg-type]
    await watch.check()
    assert component.problem() is not None and component.failures == 1
