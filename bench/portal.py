"""The portal's pages beside the APIs they call, on the bench stack: a DDO's queue page of 50 rows with 1,000
cases in that DDO's queue, and an employee's dashboard. Each is asked one request at a time (server time on
loopback, no queueing), p50 and p95 over the same number of requests, the API first and then the page."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from deploy.local.seed import import_employees
from deploy.local.synthetic import generate, seeded_officers
from services.common.settings import Settings
from services.common.temporal import connect

QUEUE_SIZE = 1000


async def _timed(http: httpx.AsyncClient, n: int, url: str, **kw: Any) -> list[float]:
    took = []
    for _ in range(n):
        started = time.perf_counter()
        r = await http.get(url, **kw)
        took.append((time.perf_counter() - started) * 1000)
        r.raise_for_status()
    return took


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def portal_pages(driver: Any, results: Any, season: str, requests: int = 200) -> None:
    stack, http, db = driver.stack, driver.http, driver.db
    ddo = next(o for o in seeded_officers() if o["role"] == "ddo")
    due = datetime.now(UTC) + timedelta(days=10)
    # 1,000 pending verifications in one DDO's queue: rows of the queue's own table, as the tasks consumer
    # writes them (the pipeline that fills it is measured by the season phase)
    await db.executemany(
        "INSERT INTO verification.task (application_no, employee_id, ddo_code, department, district, due_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        [
            (
                f"SS-BENCHQ-{i:07d}",
                f"EMPQ{i:07d}",
                ddo["ddo_code"],
                ddo["department"],
                "Ambala",
                due + timedelta(minutes=i),
            )
            for i in range(QUEUE_SIZE)
        ],
    )
    token = await driver.officer(ddo["officer_id"])
    api = await _timed(http, requests, f"{stack.url('verification')}/verification/queue?limit=50", headers=token)
    bearer = token["Authorization"].split(" ", 1)[1]
    page = await _timed(http, requests, f"{stack.portal_url}/desk/queue", cookies={"seva_officer": bearer})
    results.add(f"queue page, 50 of {QUEUE_SIZE:,} rows, p50 (API beside)", _p(page, 50), _p(api, 50), "ms", False)
    results.add(f"queue page, 50 of {QUEUE_SIZE:,} rows, p95 (API beside)", _p(page, 95), _p(api, 95), "ms", False)

    data = generate(3, seed=41, fault_share=0.0, first_id=810_001)
    await import_employees(
        stack.database_url,
        await connect(Settings(env="dev", temporal_address=stack.temporal_address)),
        season,
        data,
        show_progress=False,
    )
    auth = await driver.login(data.employees[0])
    api = await _timed(http, requests, f"{stack.url('applications')}/applications/mine", headers=auth)
    session = auth["Authorization"].split(" ", 1)[1]
    page = await _timed(http, requests, f"{stack.portal_url}/me", cookies={"seva_employee": session})
    results.add("employee dashboard, p50 (API beside)", _p(page, 50), _p(api, 50), "ms", False)
    results.add("employee dashboard, p95 (API beside)", _p(page, 95), _p(api, 95), "ms", False)
