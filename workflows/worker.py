"""The cases worker: runs the case workflows (task queue `cases`) and delivers domain events to them."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Any, cast

from temporalio.worker import PollerBehaviorAutoscaling, UnsandboxedWorkflowRunner, Worker

from contract import CASES_TASK_QUEUE
from services.common.health import Health
from services.common.kafka import KAFKA_STALL_AFTER, EventConsumer, KafkaWatch, start_producer
from services.common.logs import configure_logging
from services.common.metrics import sample_cases
from services.common.runtime import serve_health, task_problem
from services.common.settings import CasesSettings, get_settings, use_settings
from services.common.telemetry import setup_tracing
from services.common.temporal import connect
from workflows.calendar_copy import CalendarCopy
from workflows.case import CaseWorkflow
from workflows.event_router import CASE_TOPICS, event_router

log = logging.getLogger("seva.cases")


STICKY_TIMEOUT = timedelta(seconds=10)


def case_worker_tuning() -> dict[str, Any]:
    """How the cases worker runs workflows, measured with `seva bench --phases extension` (10,000 open cases:
    a timer wave went from 46 to 79 cases/s re-armed, opening from 45 to 74 cases/s, memory 513 -> 340 MiB).

    - No sandbox here. At state scale most workflow tasks meet a case that is not in the cache, and building a
      sandbox for it costs about 14 ms of CPU, more than the task itself. The determinism guard is not lost:
      the time-skipping tests and the replay tests run the same workflow code in the sandbox.
    - The number of workflow-task pollers follows the backlog (a wave of timers), instead of a fixed five.
    - A task waits at most 10 s on this worker's sticky queue before the server hands it to the shared queue
      (STICKY_TIMEOUT). A worker killed with `kill -9` cannot tell the server it has gone, so the tasks queued
      for it wait out this timeout: with 10 minutes, 7 of 60 cases stood still (and their status query failed)
      for 10 minutes after the worker was killed and restarted; with 10 s they move on within seconds
      (tests/e2e/test_worker_crash.py). The price is paid in a timer wave, when the backlog is longer than
      10 s and a task that times out there costs the server a second one: 30,000 cases re-armed in 434 s with
      60 s and 410 s with 10 minutes (bench/results/2026-11-22T1949-*, ...T2007-*), and at 120,000 the wave
      took 2,105 s with 60 s against 1,807 s with 10 minutes. Deadlines measured in days bear a slower wave;
      they do not bear cases frozen for minutes after a crash.
    - A cache, even one far smaller than the open cases. Without one (`max_cached_workflows=0`, no sticky
      queue) opening 10,000 cases crawled: 1,768 opened in 6 minutes with 75,554 workflow-task attempts,
      where this tuning opens all 10,000 in 118 s (bench/results/2026-11-22T2143-extension-10000.md)."""
    return dict(
        workflow_runner=UnsandboxedWorkflowRunner(),
        max_cached_workflows=2000,
        workflow_task_poller_behavior=PollerBehaviorAutoscaling(),
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )


async def run_cases_worker() -> None:
    use_settings(CasesSettings)
    settings = cast(CasesSettings, get_settings())
    setup_tracing("cases", settings)
    client = await connect(settings)
    producer = await start_producer(settings.kafka_bootstrap)
    calendar = CalendarCopy(settings.applications_url)
    health = Health()
    consumer = EventConsumer(
        settings.kafka_bootstrap,
        CASE_TOPICS,
        "cases.signaller",
        event_router(client, settings.season_id, calendar),
        producer,
        transient_limit=settings.consumer_transient_limit_seconds,
        health=health.add("consumer-cases.signaller", "consumer"),
    )
    await consumer.start()
    kafka_watch = KafkaWatch(
        producer, settings.kafka_bootstrap, health.add("kafka", "broker", stall_after=KAFKA_STALL_AFTER)
    )
    await kafka_watch.start()
    worker = Worker(
        client,
        task_queue=CASES_TASK_QUEUE,
        workflows=[CaseWorkflow],
        activities=[calendar.activity()],
        **case_worker_tuning(),
    )
    worker_task = asyncio.create_task(worker.run(), name="cases-worker")
    health.add("temporal-worker-cases", "worker", probe=lambda: task_problem(worker_task)).ok()
    probe_task = await serve_health(health, "cases", settings.health_port) if settings.health_port else None
    sampling = asyncio.create_task(sample_cases(client), name="cases-per-stage")  # for /metrics
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("cases worker ready on task queue %s", CASES_TASK_QUEUE)
    stopping = asyncio.create_task(stop.wait())
    # The worker ends on its own only on a fatal error: then the process exits non-zero and is restarted,
    # rather than living on with no one running the cases.
    await asyncio.wait([stopping, worker_task], return_when=asyncio.FIRST_COMPLETED)
    failed = worker_task.done() and not stopping.done()
    if not worker_task.done():
        await worker.shutdown()
    await asyncio.gather(worker_task, return_exceptions=True)
    await consumer.stop()
    await kafka_watch.stop()
    await producer.stop()
    await calendar.close()
    sampling.cancel()
    if probe_task is not None:
        probe_task.cancel()
    if failed:
        raise SystemExit(f"the cases worker stopped: {task_problem(worker_task)}")


def main() -> None:
    configure_logging("cases-worker", logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a calendar read every few seconds in a wave
    asyncio.run(run_cases_worker())


if __name__ == "__main__":
    main()
