"""A scripted stall, from the held message to the page: on the real Kafka broker a consumer meets one message its
handler cannot take (a transient failure that does not pass), holds its partition, shows it on its metrics page,
and after its limit parks the message and moves on. The page is scraped as Prometheus would, and the alert rules
as written (deploy/production/prometheus/alerts.yaml) are evaluated by promtool over the recorded series.

The stall is replayed time-compressed: every scrape's time and every seconds-valued figure are multiplied by
COMPRESSION (a 14 s stall is read as 9 min 20 s), so that ConsumerStuckOnOneMessage (over 300 s, for 2 minutes)
can be seen to fire inside the stall and not before it, in a test of seconds. The consumer, its metrics and the
rules are the real ones; only the clock of the replay is scaled."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.common.events import envelope
from services.common.health import Health
from services.common.kafka import EventConsumer, start_producer
from services.common.metrics import metrics_answer

from .conftest import eventually
from .test_consumer_faults import _letters_at_least, _topics

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "production" / "prometheus" / "alerts.yaml"
PROMTOOL = ROOT / "var" / "tools" / "promtool"  # `make promtool`, which `make test` runs first
COMPRESSION = 40
STALL_LIMIT = 14.0  # real seconds a transient failure may hold the partition before the message is parked
TICK = 15  # seconds of replayed time between samples, as a Prometheus scrape interval


def _sample(text: str, metric: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(metric + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_a_held_message_raises_the_stuck_consumer_alert_in_its_window_and_is_then_parked(stack, tmp_path):
    assert PROMTOOL.exists(), f"{PROMTOOL} missing: run `make promtool`"
    group = f"t.stall-{uuid.uuid4().hex[:6]}"
    topic, dlq = await _topics(stack, group)
    handled: list[int] = []

    async def handler(event: dict[str, Any]) -> None:
        n = event["data"]["n"]
        if n == 1:
            raise ConnectionError("the dependency this message needs does not answer")  # transient: held, retried
        handled.append(n)

    process = Health()
    health = process.add(f"consumer-{group}", "consumer")
    producer = await start_producer(stack.kafka_bootstrap)
    consumer = EventConsumer(
        stack.kafka_bootstrap, [topic], group, handler, producer, health, retry_ceiling=1.0, transient_limit=STALL_LIMIT
    )
    component = f"consumer-{group}"
    scrapes: list[tuple[float, str]] = []
    try:
        for n in range(3):
            await producer.send_and_wait(topic, envelope("x.happened", "test", "EMP4", {"n": n}), key="EMP4")
        started = time.monotonic()
        await consumer.start()
        while time.monotonic() - started < STALL_LIMIT + 6:  # through the stall and past the parking
            page = bytes((await metrics_answer(process)).body).decode()
            scrapes.append((time.monotonic() - started, page))
            await asyncio.sleep(0.25)
        await eventually(lambda: _done(handled, [0, 2]), what="the message after the held one handled", timeout=30)
        [letter] = await eventually(lambda: _letters_at_least(stack, dlq, 1), what="the parked message")
        assert letter["reason"] == "transient_outlasted"
    finally:
        await consumer.stop()
        await producer.stop()

    # what the page said while the message was held: failing, one message behind, the message's age rising
    held = [
        (t, _sample(p, "seva_component_failing_seconds", component=component, kind="consumer") or 0.0)
        for t, p in scrapes
    ]
    assert max(v for _, v in held) >= STALL_LIMIT - 2
    ages = [_sample(p, "seva_consumer_message_age_seconds", group=group, topic=topic) or 0.0 for _, p in scrapes]
    assert max(ages) >= STALL_LIMIT - 2
    lags = [_sample(p, "seva_consumer_lag_messages", group=group, topic=topic) for _, p in scrapes]
    assert max(v or 0 for v in lags) >= 2 and lags[-1] == 0  # the held one and the one behind it; then none
    parked = [
        _sample(p, "seva_parked_messages", component=component, reason="transient_outlasted") or 0 for _, p in scrapes
    ]
    assert parked[-1] == 1

    # the replay, every TICK seconds of compressed time: the last scrape at or before each tick
    end = scrapes[-1][0] * COMPRESSION
    ticks = range(0, int(end) + 1, TICK)

    def series(values: list[tuple[float, float]], scale: float) -> str:
        out, i = [], 0
        for tick in ticks:
            while i + 1 < len(values) and values[i + 1][0] * COMPRESSION <= tick:
                i += 1
            out.append(f"{values[i][1] * scale:g}")
        return " ".join(out)

    failing = [float(v) for v in series(held, COMPRESSION).split()]
    over = next(t for t, v in zip(ticks, failing, strict=True) if v > 300)  # pending from here
    fire_at = over + 120 + TICK  # then two minutes, and the next evaluation
    parked_at = next(t for t, v in zip(ticks, failing, strict=True) if t > over and v == 0)
    assert fire_at < parked_at, "the replay is too short for the rule's window"
    seconds = int(failing[list(ticks).index(fire_at)])
    held_for = f"{seconds // 60}m {seconds % 60}s"  # as the rule's summary writes it (humanizeDuration)
    parked_series = [(t, float(v)) for (t, _), v in zip(scrapes, parked, strict=True)]
    test = {
        "rule_files": [str(RULES)],
        "evaluation_interval": f"{TICK}s",
        "tests": [
            {
                "interval": f"{TICK}s",
                "input_series": [
                    {
                        "series": f'seva_component_failing_seconds{{component="{component}",kind="consumer"}}',
                        "values": series(held, COMPRESSION),
                    },
                    {
                        "series": f'seva_parked_messages{{component="{component}",reason="transient_outlasted"}}',
                        "values": series(parked_series, 1),
                    },
                ],
                "alert_rule_test": [
                    {"eval_time": f"{over + 120 - TICK}s", "alertname": "ConsumerStuckOnOneMessage", "exp_alerts": []},
                    {
                        "eval_time": f"{fire_at}s",
                        "alertname": "ConsumerStuckOnOneMessage",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "page", "component": component},
                                "exp_annotations": {
                                    "summary": f"{component} has been stuck on one message for {held_for}"
                                },
                            }
                        ],
                    },
                    {
                        "eval_time": f"{ticks[-1]}s",
                        "alertname": "ParkedMessagesRising",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "ticket",
                                    "component": component,
                                    "reason": "transient_outlasted",
                                },
                                "exp_annotations": {
                                    "summary": f"{component} parked messages (transient_outlasted) in the last 15 minutes"
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "stall_test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    done = subprocess.run([str(PROMTOOL), "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    print(
        f"\nstall replay x{COMPRESSION}: {len(scrapes)} scrapes over {scrapes[-1][0]:.1f} s, alert expected at {fire_at} s"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"SUCCESS", done.stdout), done.stdout


async def _done(handled: list[int], expected: list[int]) -> bool:
    return handled == expected
