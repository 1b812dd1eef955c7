"""The cases worker: runs the case workflows (task queue `cases`) and delivers domain events to them."""
from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Any

from temporalio.worker import PollerBehaviorAutoscaling, UnsandboxedWorkflowRunner, Worker

from services.common.kafka import EventConsumer, start_producer
from services.common.settings import get_settings
from services.common.telemetry import setup_tracing
from services.common.temporal import connect
from workflows.calendar_copy import CalendarCopy
from workflows.case import CaseWorkflow
from workflows.contracts import CASES_TASK_QUEUE
from workflows.event_router import CASE_TOPICS, event_router

log = logging.getLogger("seva.cases")


def case_worker_tuning() -> dict[str, Any]:
    """How the cases worker runs workflows, measured with `seva bench --phases extension` (10,000 open cases:
    a timer wave went from 46 to 79 cases/s re-armed, opening from 45 to 74 cases/s, memory 513 -> 340 MiB).

    - No sandbox here. At state scale most workflow tasks meet a case that is not in the cache, and building a
      sandbox for it costs about 14 ms of CPU, more than the task itself. The determinism guard is not lost:
      the time-skipping tests and the replay tests run the same workflow code in the sandbox.
    - The number of workflow-task pollers follows the backlog (a wave of timers), instead of a fixed five.
    - A task waits up to 10 minutes on this worker's sticky queue before it is handed to the shared queue.
      In a wave the backlog is far longer than the default 10 s, and every task that times out there costs
      the server a second one: with 60 s, 21,377 of 30,000 cases' tasks timed out in a wave, and at 120,000
      most did for 15 minutes. With 10 minutes none did and the 30,000 re-armed in 410 s instead of 434
      (bench/results/2026-11-22T1949-extension-30000-sticky-60s.md, ...T2007-extension-30000-sticky-10min.md).
      The price: if this worker dies, the cases it had cached wait up to 10 minutes for another worker,
      which deadlines measured in days can bear.
    - A cache, even one far smaller than the open cases. Without one (`max_cached_workflows=0`, no sticky
      queue) opening 10,000 cases crawled: 1,768 opened in 6 minutes with 75,554 workflow-task attempts,
      where this tuning opens all 10,000 in 118 s (bench/results/2026-11-22T2143-extension-10000.md)."""
    return dict(workflow_runner=UnsandboxedWorkflowRunner(), max_cached_workflows=2000,
                workflow_task_poller_behavior=PollerBehaviorAutoscaling(),
                sticky_queue_schedule_to_start_timeout=timedelta(minutes=10))


async def run_cases_worker() -> None:
    settings = get_settings()
    setup_tracing("cases", settings)
    client = await connect(settings)
    producer = await start_producer(settings.kafka_bootstrap)
    calendar = CalendarCopy(settings.applications_url)
    consumer = EventConsumer(settings.kafka_bootstrap, CASE_TOPICS, "cases.signaller",
                             event_router(client, calendar), producer)
    await consumer.start()
    worker = Worker(client, task_queue=CASES_TASK_QUEUE, workflows=[CaseWorkflow], activities=[calendar.activity()],
                    **case_worker_tuning())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("cases worker ready on task queue %s", CASES_TASK_QUEUE)
    async with worker:
        await stop.wait()
    await consumer.stop()
    await producer.stop()
    await calendar.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)   # a calendar read every few seconds in a wave
    asyncio.run(run_cases_worker())


if __name__ == "__main__":
    main()
