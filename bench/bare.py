"""Baselines measured in the same run: a bare Temporal workflow with the case's shape (the same number of
activities and signals, no services, no Kafka), and a bare FastAPI + asyncpg endpoint doing one query."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

BARE_QUEUE = "bench-bare"
SIGNALS = 5  # otp.verified, application.submitted, verification.decided, post.created, order.approved
# after which signal the case runs how many activities (the happy path's 7: calendar; service record,
# eligibility, verification task; post request; order, SMS)
SHAPE = {0: 1, 2: 3, 3: 1, 5: 2}


@activity.defn(name="bare_step")
async def bare_step(n: int) -> int:
    return n


@workflow.defn(name="BareCase")
class BareCase:
    def __init__(self) -> None:
        self.signals = 0

    @workflow.signal
    def step(self) -> None:
        self.signals += 1

    @workflow.run
    async def run(self) -> int:
        done = 0
        for after in range(SIGNALS + 1):
            await workflow.wait_condition(lambda: self.signals >= after)
            for _ in range(SHAPE.get(after, 0)):
                done = await workflow.execute_activity(
                    bare_step, done + 1, start_to_close_timeout=timedelta(seconds=30)
                )
        return done


def bare_api() -> Any:
    """uvicorn bench.bare:bare_api --factory"""
    import os

    import asyncpg
    from fastapi import FastAPI

    app = FastAPI()

    @app.on_event("startup")
    async def _start() -> None:
        app.state.pool = await asyncpg.create_pool(os.environ["SEVA_DATABASE_URL"], min_size=1, max_size=10)

    @app.get("/bare/{mobile}")
    async def bare(mobile: str) -> dict[str, Any]:
        row = await app.state.pool.fetchval("SELECT employee_id FROM otp.employee_master WHERE mobile = $1", mobile)
        return {"employee_id": row}

    return app
