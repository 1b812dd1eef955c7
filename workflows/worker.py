"""The cases worker: runs the case workflows (task queue `cases`) and delivers domain events to them."""
from __future__ import annotations

import asyncio
import logging
import signal

from temporalio.worker import Worker

from services.common.kafka import EventConsumer, start_producer
from services.common.settings import get_settings
from services.common.telemetry import setup_tracing
from services.common.temporal import connect
from workflows.calendar_copy import CalendarCopy
from workflows.case import CaseWorkflow
from workflows.contracts import CASES_TASK_QUEUE
from workflows.event_router import CASE_TOPICS, event_router

log = logging.getLogger("seva.cases")


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
                    max_cached_workflows=2000)
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
