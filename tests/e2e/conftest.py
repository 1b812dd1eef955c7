"""The real local stack (PostgreSQL, Kafka, Temporal dev server, four services, cases worker), started
once for the session on its own ports and data folder, with a small synthetic data set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bench.meters import wait_for
from deploy.local import journey
from deploy.local.seed import seed
from deploy.local.stack import TEST_PORTS, LocalStack
from services.common.db import create_pool
from services.common.settings import Settings
from services.common.temporal import connect

SEASON = "e2e"


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    data_dir = Path(tmp_path_factory.mktemp("stack"))
    # Every test request comes from 127.0.0.1: the per-address cap is raised here and tested on its own.
    s = LocalStack(
        data_dir,
        TEST_PORTS,
        database_url=os.environ.get("SEVA_TEST_DATABASE_URL"),
        season_id=SEASON,
        extra_env={"SEVA_OTP_MAX_PER_CLIENT_HOUR": "5000", "OTEL_BSP_SCHEDULE_DELAY": "200"},
        signed_in_ui=True,
    )
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest_asyncio.fixture(scope="session")
async def temporal(stack):
    return await connect(Settings(temporal_address=stack.temporal_address))


@pytest_asyncio.fixture(scope="session")
async def master(stack, temporal):
    data, started = await seed(
        stack.database_url, temporal, SEASON, size=60, seed_value=7, fault_share=0.2, show_progress=False
    )
    assert data is not None and started == 60
    return data


@pytest_asyncio.fixture(scope="session")
async def db(stack):
    pool = await create_pool(stack.database_url)
    yield pool
    await pool.close()


@pytest_asyncio.fixture(scope="session")
async def http():
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def eventually(probe, timeout: float = 60, interval: float = 0.25, what: str = "condition"):
    """bench.meters.wait_for, failing the test rather than the run."""
    try:
        return await wait_for(probe, timeout, what, interval)
    except TimeoutError as gave_up:
        raise AssertionError(str(gave_up)) from None


# Every full Aadhaar number the suite enters, so the leak test can look for each of them everywhere.
AADHAAR_USED: list[str] = []
# Every OTP code the suite read from the dev SMS inbox, for the same test.
OTP_CODES_SEEN: list[str] = []

E2E_AADHAAR = "2"  # the first digit of the suite's Aadhaar numbers (deploy/local/journey.py)


def aadhaar_for(employee_id: str) -> str:
    number = journey.aadhaar_for(employee_id, E2E_AADHAAR)
    AADHAAR_USED.append(number)
    return number


async def prepare_application(stack, http, auth: dict[str, Any], employee_id: str) -> None:
    """What an employee does before submitting (deploy/local/journey.py): the six documents, Aadhaar and PAN."""
    for step in journey.preparation(employee_id, E2E_AADHAAR):
        r = await http.request(step.method, stack.url("applications") + step.path, **step.request(auth))
        assert r.status_code == 200, r.text
    AADHAAR_USED.append(journey.aadhaar_for(employee_id, E2E_AADHAAR))


@pytest_asyncio.fixture(scope="module")
async def browser():
    """Headless Chromium (Debian's, driven by Playwright), one per test module."""
    from playwright.async_api import async_playwright

    from .browser import CHROMIUM

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        await b.close()
