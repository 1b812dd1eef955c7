"""`make bench`: the real local stack on its own ports and a fresh data folder, measured beside baselines
taken in the same run (these machines are noisy: read the ratios). Results go to bench/results/."""

from __future__ import annotations

import asyncio
import itertools
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import httpx
import psutil
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from contract import OFFICIAL_2025_26, shifted
from contract.search_attributes import cases_where
from deploy.local.journey import application_form, preparation
from deploy.local.phone import DELIVERED_OTP, code_of, otp_since
from deploy.local.seed import import_employees
from deploy.local.stack import BENCH_PORTS, ENGINE_NAMES, LocalStack
from deploy.local.synthetic import SyntheticEmployee, generate
from ops.database import put_calendar
from services.common.settings import Settings
from services.common.temporal import connect
from workflows.worker import case_worker_tuning

from .bare import BARE_QUEUE, SIGNALS, BareCase, bare_step
from .meters import CpuMeter, at_least, log, wait_for
from .portal import portal_pages
from .profile import Profiler
from .surge import STEP_SECONDS as SURGE_STEP_SECONDS
from .surge import USERS as SURGE_USERS
from .surge import last_day_surge

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")
# a request of a closed-loop load: method, url, JSON body, what to do with a success, headers
Request = tuple[str, str, dict[str, Any] | None, Callable[[httpx.Response], object] | None, dict[str, Any] | None]
SEASON = "bench"
IMPORT_CHUNK = 5000
BENCH_AADHAAR = "3"  # the first digit of the benchmark's Aadhaar numbers (deploy/local/journey.py)


@dataclass
class Results:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # measure, seva, baseline, ratio
    notes: list[str] = field(default_factory=list)
    failed: bool = False
    files: dict[str, str] = field(default_factory=dict)  # written beside the results: <stamp>-<key>

    def add(self, measure: str, seva: float, baseline: float | None, unit: str, higher_is_better: bool = True) -> None:
        ratio = "" if not baseline else f"{(seva / baseline if higher_is_better else baseline / seva):.2f}"
        base = "" if baseline is None else f"{baseline:,.2f} {unit}"
        self.rows.append((measure, f"{seva:,.2f} {unit}", base, ratio))
        print(f"  {measure:<58} {seva:>12,.2f} {unit:<10} {base:>18} {ratio:>6}", flush=True)


# ---- the employees' and officers' side, through the APIs -------------------------------------------------


class Driver:
    DROPPED_TRIES = 3  # a person whose page drops tries again; a third drop in a row is a failure

    def __init__(self, stack: LocalStack, db: asyncpg.Pool, http: httpx.AsyncClient):
        self.stack, self.db, self.http = stack, db, http
        self.tokens: dict[str, dict[str, Any]] = {}
        self.dropped: list[str] = []  # requests whose connection dropped before an answer, each tried again

    async def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return (await self.request_tried(method, url, **kw))[0]

    async def request_tried(self, method: str, url: str, **kw: Any) -> tuple[httpx.Response, int]:
        """A request as a person makes it: when the connection drops before any answer (the server closed or
        reset it), nothing was acknowledged, so they try again after a moment. Every drop is kept and reported
        beside the phase; a request that took an answer is never sent again. Returns the answer and how many
        times it was sent."""
        for attempt in range(1, self.DROPPED_TRIES + 1):
            try:
                return await self.http.request(method, url, **kw), attempt
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError) as exc:
                self.dropped.append(f"{method} {urlsplit(url).path}: {exc!r}")
                if attempt == self.DROPPED_TRIES:
                    raise
                await asyncio.sleep(attempt)
        raise AssertionError("unreachable")

    def dropped_note(self, phase: str) -> str | None:
        if not self.dropped:
            return None
        paths = Counter(d.split(":")[0] for d in self.dropped)
        return (
            f"{phase}: {len(self.dropped)} requests lost their connection before any answer and were sent again "
            f"(by path: {', '.join(f'{p} {n}' for p, n in paths.most_common())}; first: {self.dropped[0]})"
        )

    async def officer(self, officer_id: str) -> dict[str, Any]:
        if officer_id not in self.tokens:
            token = await asyncio.to_thread(self.stack.officer_token, officer_id)  # from the identity provider
            self.tokens[officer_id] = {"Authorization": f"Bearer {token}"}
        return self.tokens[officer_id]

    async def extend_registration(self, season: str, new_close: datetime, reason: str) -> None:
        """The administrator moves the season's registration close, through the API."""
        admin = await self.officer("ADMIN-HR")
        r = await self.request(
            "POST",
            f"{self.stack.url('applications')}/calendar/changes",
            params={"season_id": season},
            headers=admin,
            json={"step": "registration_close", "new_deadline": new_close.isoformat(), "reason": reason},
        )
        r.raise_for_status()

    async def otp_code(self, mobile: str, after: datetime) -> str:
        code = await otp_since(self.db.fetchval, mobile, after, wait=120.0, interval=0.2)
        if code is None:
            raise TimeoutError(f"OTP for {mobile[-2:]} not reached in 120s")
        return code

    async def login(self, employee: SyntheticEmployee) -> dict[str, Any]:
        mobile = employee.actual_mobile
        asked = datetime.now(UTC) - timedelta(seconds=1)
        r = await self.request("POST", f"{self.stack.url('otp')}/otp/request", json={"mobile": mobile})
        r.raise_for_status()
        code = await self.otp_code(mobile, asked)
        r = await self.request("POST", f"{self.stack.url('otp')}/otp/verify", json={"mobile": mobile, "code": code})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['token']}"}

    async def prepare(self, employee: SyntheticEmployee, auth: dict[str, Any]) -> dict[str, Any]:
        base = self.stack.url("applications")
        for step in preparation(employee.master["employee_id"], BENCH_AADHAAR):
            r = await self.request(step.method, base + step.path, **step.request(auth))
            r.raise_for_status()
        return application_form(employee.master)

    async def submit(self, form: dict[str, Any], auth: dict[str, Any]) -> str:
        url = f"{self.stack.url('applications')}/applications"
        r, sent = await self.request_tried("POST", url, json=form, headers=auth)
        if r.status_code == 409 and r.json().get("code") == "application_exists" and sent > 1:
            # this submit's dropped first try had reached the service: the application is there
            mine = await self.request("GET", f"{self.stack.url('applications')}/applications/mine", headers=auth)
            mine.raise_for_status()
            number: str = mine.json()["application_no"]
            return number
        r.raise_for_status()
        application_no: str = r.json()["application_no"]
        return application_no

    async def employee_journey(self, employee: SyntheticEmployee) -> None:
        auth = await self.login(employee)
        await self.submit(await self.prepare(employee, auth), auth)

    async def officers_until(self, done: Callable[[], Awaitable[bool]]) -> None:
        """DDOs verify, Finance creates posts and HoDs approve, in bulk through the APIs, until done()."""
        v, o = self.stack.url("verification"), self.stack.url("orders")

        async def desk(officer_id: str, pending_url: str, act_url: str) -> None:
            """One officer clears their desk: everything pending, in one bulk action."""
            h = await self.officer(officer_id)
            pending = (await self.request("GET", pending_url, params={"limit": 500}, headers=h)).json()
            if pending:
                await self.request(
                    "POST", act_url, headers=h, json={"application_nos": [p["application_no"] for p in pending]}
                )

        while not await done():
            # the officers work side by side, as 440 DDOs and 20 HoDs would
            ddos = [
                r["ddo_code"]
                for r in await self.db.fetch("SELECT DISTINCT ddo_code FROM verification.task WHERE status = 'pending'")
            ]
            await gather_limited(
                [desk(f"OFF-{d}", f"{v}/verification/queue", f"{v}/verification/decisions/bulk") for d in ddos], 16
            )
            await desk("FIN-1", f"{o}/posts/awaiting", f"{o}/posts")
            departments = [
                r["department"]
                for r in await self.db.fetch(
                    "SELECT DISTINCT r.department FROM orders.case_request r JOIN orders.supernumerary_post p "
                    "USING (application_no) WHERE r.approved_at IS NULL"
                )
            ]
            await gather_limited(
                [desk(f"HOD-{d}", f"{o}/orders/awaiting-approval", f"{o}/orders/approvals") for d in departments], 8
            )
            await asyncio.sleep(0.5)


async def gather_limited(coros: Iterable[Awaitable[T]], limit: int) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(c: Awaitable[T]) -> T:
        async with gate:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


# ---- the measurements ----------------------------------------------------------------------------------


async def season_throughput(driver: Driver, temporal: Client, n: int, results: Results) -> None:
    data = generate(n, seed=11, fault_share=0.0, first_id=1)
    log(f"season: importing {n} employees and starting their cases")
    t = time.monotonic()
    await import_employees(driver.stack.database_url, temporal, SEASON, data, show_progress=False)
    results.add("case start rate (seva import)", n / (time.monotonic() - t), None, "cases/s")

    async def all_ordered() -> bool:
        ordered: int = await driver.db.fetchval(
            "SELECT count(*) FROM orders.service_security_order o JOIN "
            "orders.case_request r USING (application_no) WHERE r.employee_id <= $1",
            f"EMP{n:07d}",
        )
        return ordered >= n

    log("season: employees register and apply, officers act in bulk, until every order is issued")
    t = time.monotonic()
    profiler = Profiler(driver.stack, 3600, driver.stack.data_dir / "profile")
    with CpuMeter(driver.stack) as cpu, profiler:
        officers = asyncio.create_task(driver.officers_until(all_ordered))
        await gather_limited([driver.employee_journey(e) for e in data.employees], 48)
        await asyncio.wait_for(officers, timeout=1800)
    seva = n / (time.monotonic() - t)
    results.notes.append(cpu.note(f"season, {n} cases"))
    results.notes.append(profiler.hottest())
    results.files["season-profile.md"] = f"# Season, {n} cases: where each Python process spent its CPU\n\n" + (
        profiler.report()
    )

    log("season: the bare workflow of the same shape on the same server")
    async with Worker(
        temporal,
        task_queue=BARE_QUEUE,
        workflows=[BareCase],
        activities=[bare_step],
        max_concurrent_activities=200,
        **case_worker_tuning(),
    ):  # run as the cases worker runs
        handles = await gather_limited(
            [
                temporal.start_workflow(BareCase.run, id=f"bare-{i}-{time.time_ns()}", task_queue=BARE_QUEUE)
                for i in range(n)
            ],
            128,
        )
        t = time.monotonic()

        async def drive(h: WorkflowHandle[Any, Any]) -> None:
            for _ in range(SIGNALS):
                await h.signal(BareCase.step)
            await h.result()

        with CpuMeter(driver.stack) as cpu:
            await gather_limited([drive(h) for h in handles], 128)
        bare = n / (time.monotonic() - t)
    results.notes.append(cpu.note(f"bare workflow, {n} cases (its worker runs in the bench driver)"))
    results.add(f"season throughput, {n} cases to the order (vs bare workflow)", seva, bare, "cases/s")


async def extension_fanout(
    driver: Driver, temporal: Client, n: int, results: Results, lead_seconds: int, start_rate: float
) -> None:
    """N open cases wait on a registration deadline; the administrator extends it just before it passes.
    Every case reads the calendar in force when its timer fires, so the extension costs no signal per case;
    we measure until every case shows the new deadline, and that none lapsed under the old one."""
    data = generate(n, seed=23, fault_share=0.0, first_id=500_001)
    log(f"extension: importing {n} employees into a season whose registration closes soon")
    now = datetime.now(UTC)
    season = f"{SEASON}-ext"
    cal = shifted(OFFICIAL_2025_26, season, now - timedelta(days=1))
    # the old deadline must come after every case is started and waiting: `start_rate` is a cautious guess
    # of `seva import`'s rate (the season phase measures it); too low only makes the run wait longer
    cal.registration_close = now + timedelta(seconds=30 + lead_seconds + n / start_rate)
    pool = driver.db
    await put_calendar(pool, cal, "bench", "bench: a registration deadline about to pass")
    proc, server = (psutil.Process(driver.stack.proc(name).pid) for name in ("cases-worker", "temporal"))
    size_before = await pool.fetchval("SELECT pg_database_size(current_database())")
    half = n // 2

    async def waiting() -> int:
        return (await temporal.count_workflows(cases_where("CaseStage = 'awaiting_registration'"))).count

    from deploy.local.synthetic import MasterData

    step, t = min(IMPORT_CHUNK, max(half, 1)), time.monotonic()
    rss_half: int | None = None
    at_half = server_half = db_half = 0
    for i in range(0, n, step):
        # in chunks, the next started while the last is being opened: starts alone are cheap for the server and
        # would pile up workflow tasks far ahead of the worker
        if datetime.now(UTC) > cal.registration_close - timedelta(seconds=lead_seconds):
            raise TimeoutError(f"only {i} of {n} cases were waiting by the old deadline: give a lower --start-rate")
        chunk = MasterData(
            data.departments, data.districts, data.posts, data.ddos, data.officers, data.employees[i : i + step]
        )
        await import_employees(driver.stack.database_url, temporal, season, chunk, show_progress=False)
        # the chunks before this one are open: this one is in flight while the next starts
        if i:
            await wait_for(lambda: at_least(waiting, i), 1800, f"the first {i} cases waiting")
        if rss_half is None and i >= half:
            at_half, rss_half, server_half = i, proc.memory_info().rss, server.memory_info().rss
            db_half = await pool.fetchval("SELECT pg_database_size(current_database())")
    budget = (cal.registration_close - datetime.now(UTC)).total_seconds() - lead_seconds
    await wait_for(lambda: at_least(waiting, n), max(budget, 1), "every extension case waiting before the old deadline")
    results.add(
        f"open cases started and waiting, per second ({n} cases, in chunks of {step})",
        n / (time.monotonic() - t),
        None,
        "cases/s",
    )
    rss_full, db_full = proc.memory_info().rss, await pool.fetchval("SELECT pg_database_size(current_database())")
    assert rss_half is not None  # a chunk starts at or past half-way
    results.add(f"cases worker memory at {at_half} open cases", rss_half / 2**20, None, "MiB")
    results.add(f"cases worker memory at {n} open cases", rss_full / 2**20, None, "MiB")
    results.add(f"Temporal server memory at {at_half} open cases", server_half / 2**20, None, "MiB")
    results.add(f"Temporal server memory at {n} open cases", server.memory_info().rss / 2**20, None, "MiB")
    results.add(f"PostgreSQL bytes per case at {at_half} cases", (db_half - size_before) / at_half, None, "bytes")
    results.add(f"PostgreSQL bytes per case at {n} cases", (db_full - size_before) / n, None, "bytes")
    if driver.stack.engine == "production":  # the server's own databases, on the same PostgreSQL
        sizes = await pool.fetch(
            "SELECT datname, pg_database_size(datname) AS bytes FROM pg_database "
            "WHERE datname IN ('temporal', 'temporal_visibility') ORDER BY datname"
        )
        results.notes.append(
            f"the Temporal server's databases after {n} open cases (and the phases before): "
            + ", ".join(f"{r['datname']} {r['bytes'] / 2**20:,.0f} MiB" for r in sizes)
        )
    temporal_db = driver.stack.data_dir / "temporal" / "temporal.db"
    if temporal_db.exists():
        results.notes.append(
            f"Temporal's SQLite file after {n} open cases (and the season above): "
            f"{temporal_db.stat().st_size / 2**20:,.0f} MiB"
        )

    # what an employee asks for during the wave, measured first with the engine idle (the cases wait on timers)
    mobiles = itertools.cycle([e.actual_mobile for e in data.employees])

    def otp_requests() -> Request:
        return ("POST", f"{driver.stack.url('otp')}/otp/request", {"mobile": next(mobiles)}, None, None)

    await driver.officer("ADMIN-HR")  # the token first: the call is timed alone
    to_call = (cal.registration_close - datetime.now(UTC)).total_seconds() - lead_seconds
    await asyncio.sleep(max(to_call - IDLE_PROBE_SECONDS, 0))
    with Probe(driver.http, otp_requests) as idle:
        await asyncio.sleep(max(min(to_call, IDLE_PROBE_SECONDS), 5.0))
    new_close = (cal.registration_close + timedelta(days=20)).astimezone(UTC).replace(microsecond=0)
    t0 = time.monotonic()
    old_close_after = (cal.registration_close - datetime.now(UTC)).total_seconds()
    await driver.extend_registration(season, new_close, "bench: extension")
    call = time.monotonic() - t0
    iso = (new_close - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    async def moved() -> int:
        return (
            await temporal.count_workflows(
                cases_where(f"CaseStage = 'awaiting_registration' AND NextDeadline >= '{iso}'")
            )
        ).count

    counts_before = await server_counts(driver)
    during = Probe(driver.http, otp_requests)
    given_up = False
    with CpuMeter(driver.stack) as cpu, during:
        try:
            await wait_for(lambda: at_least(moved, n), WAVE_GIVE_UP_SECONDS, "every case under the new calendar", 1.0)
        except TimeoutError:
            given_up = True
    if given_up:
        done = await moved()
        results.notes.append(cpu.note(f"extension, {n} cases, until it was given up"))
        results.add(
            f"extension: cases re-armed {WAVE_GIVE_UP_SECONDS / 60:.0f} min after the call (of {n})",
            done,
            None,
            "cases",
        )
        raise TimeoutError(
            f"the wave was given up after {WAVE_GIVE_UP_SECONDS / 60:.0f} min (3x the goal): {done} of {n} cases re-armed"
        )
    counts_after = await server_counts(driver)
    did = {name: counts_after[name] - counts_before[name] for name in SERVER_COUNTERS}
    misses, lookups = did["cache misses"], did["cache look-ups"]
    fanout = time.monotonic() - t0
    results.notes.append(cpu.note(f"extension, {n} cases"))
    lapsed = (await temporal.count_workflows(cases_where("CaseStage = 'lapsed_unregistered'"))).count
    results.add("extension: the call (a new calendar version)", call * 1000, None, "ms", higher_is_better=False)
    for name, q in (("p50", 0.50), ("p99", 0.99)):
        results.add(
            f"API OTP request {name} during the wave (vs idle, same run)",
            during.quantile(q),
            idle.quantile(q),
            "ms",
            higher_is_better=False,
        )
    results.notes.append(
        f"the wave's API probe: {Probe.CLIENTS} clients asking for OTPs, each pausing {Probe.PAUSE * 1000:.0f} ms "
        f"between requests; idle {idle.summary()}; during the wave {during.summary()}. Goal: p99 during at most "
        "2x idle (a ratio of at least 0.50)"
    )
    results.add(f"extension: until all {n} open cases show the new deadline", fanout, None, "s", higher_is_better=False)
    results.add(
        f"extension: from the old deadline until all {n} re-armed (vs the goal, 10 min)",
        max(fanout - old_close_after, 0.001),
        WAVE_GOAL_SECONDS,
        "s",
        higher_is_better=False,
    )
    results.add(
        "extension: cases re-armed per second once the old deadline passed",
        n / max(fanout - old_close_after, 0.001),
        None,
        "cases/s",
    )
    results.notes.append(
        f"extension: the old deadline was {lead_seconds}s after the call; every case re-read the "
        f"calendar when its timer fired; {lapsed} of {n} lapsed under the old date (must be 0); "
        "0 signals were sent. The baseline column of the re-arm row is the goal (10 minutes), not a measurement."
    )
    results.notes.append(
        f"extension: the Temporal server found a case's state in its cache {lookups - misses:,.0f} "
        f"times and loaded it from its database {misses:,.0f} times while the cases re-armed"
    )
    results.notes.append(
        f"extension: per case re-armed, the Temporal server started {did['workflow tasks started'] / n:.2f} "
        f"workflow tasks, {did['workflow tasks timed out waiting'] / n:.2f} timed out waiting on the worker's sticky "
        f"queue (each costs a second task), {did['workflow tasks timed out running'] / n:.2f} timed out after a worker "
        f"took them, and wrote a case's state {did['case state writes'] / n:.2f} times"
    )
    await lapsed_reopen(driver, temporal, min(n, LAPSED_CASES), results, start_rate)


IDLE_PROBE_SECONDS = 15.0
WAVE_GOAL_SECONDS = 600.0  # issue 27: every case in its next stage or re-armed within 10 minutes of a deadline
WAVE_GIVE_UP_SECONDS = 3 * WAVE_GOAL_SECONDS  # a wave still going then has failed: the run goes on to the others
LAPSED_CASES = 2000  # at most: every lapsed case costs one signal, so this figure grows with the lapsed, not the open


async def lapsed_reopen(driver: Driver, temporal: Client, m: int, results: Results, start_rate: float) -> None:
    """M cases of another season lapse at its registration close; the administrator then extends it. A lapsed
    case has no timer left: one batch job on the Temporal server signals the lapsed cases (calendar_fanout.py).
    We measure until every one of them is back awaiting registration."""
    now = datetime.now(UTC)
    season = f"{SEASON}-lapsed"
    cal = shifted(OFFICIAL_2025_26, season, now - timedelta(days=1))
    cal.registration_close = now + timedelta(seconds=15)  # a case opened after it lapses at once
    await put_calendar(driver.db, cal, "bench", "bench: a registration deadline about to pass, then extended")

    async def lapsed() -> int:
        return (await temporal.count_workflows(cases_where("CaseStage = 'lapsed_unregistered'"))).count

    before = await lapsed()
    log(f"extension: {m} cases of another season lapse at its registration close")
    data = generate(m, seed=31, fault_share=0.0, first_id=900_001)
    await import_employees(driver.stack.database_url, temporal, season, data, show_progress=False)
    await wait_for(lambda: at_least(lapsed, before + m), 900 + m / start_rate, f"all {m} cases lapsed")
    new_close = (cal.registration_close + timedelta(days=20)).astimezone(UTC).replace(microsecond=0)
    t0 = time.monotonic()
    await driver.extend_registration(season, new_close, "bench: extension after the close")

    async def reopened() -> bool:
        return await lapsed() <= before

    with CpuMeter(driver.stack) as cpu:
        await wait_for(reopened, 3600, f"all {m} lapsed cases reopened", interval=1.0)
    took = time.monotonic() - t0
    results.notes.append(cpu.note(f"extension, {m} lapsed cases reopening"))
    results.add(
        f"extension: until all {m} lapsed cases reopened (one batch signal job)",
        took,
        60.0,
        "s",
        higher_is_better=False,
    )
    results.add("extension: lapsed cases reopened per second", m / max(took, 0.001), None, "cases/s")


# What the Temporal server did, from its /metrics (the same names on both engines): a case's state found in the
# server's cache or loaded from its database, workflow tasks started, workflow tasks that timed out waiting on the
# worker's sticky queue (each then costs the server a second task on the shared queue) or after a worker took them
# and did not answer in time, and writes of a case's state.
SERVER_COUNTERS = {
    "cache misses": re.compile(
        r'^cache_miss\{cache_type="mutablestate",.*operation="HistoryCacheGetOrCreate",.*\} (\S+)$', re.M
    ),
    "cache look-ups": re.compile(
        r'^cache_requests\{cache_type="mutablestate",.*operation="HistoryCacheGetOrCreate",.*\} (\S+)$', re.M
    ),
    "workflow tasks started": re.compile(
        r'^service_requests\{.*operation="RecordWorkflowTaskStarted",service_name="history"\} (\S+)$', re.M
    ),
    "workflow tasks timed out waiting": re.compile(
        r'^schedule_to_start_timeout\{.*operation="TimerActiveTaskWorkflowTaskTimeout",.*\} (\S+)$', re.M
    ),
    "workflow tasks timed out running": re.compile(
        r'^start_to_close_timeout\{.*operation="TimerActiveTaskWorkflowTaskTimeout",.*\} (\S+)$', re.M
    ),
    "case state writes": re.compile(
        r'^persistence_requests\{.*operation="UpdateWorkflowExecution",service_name="history"\} (\S+)$', re.M
    ),
}


def server_counts_of(text: str) -> dict[str, float]:
    return {name: sum(float(v) for v in pick.findall(text)) for name, pick in SERVER_COUNTERS.items()}


async def server_counts(driver: Driver) -> dict[str, float]:
    """The server's counters now (see SERVER_COUNTERS)."""
    text = (await driver.http.get(f"http://127.0.0.1:{driver.stack.ports.temporal_metrics}/metrics")).text
    return server_counts_of(text)


async def api_load(driver: Driver, results: Results, seconds: float, concurrency: int) -> None:
    data = generate(4000, seed=29, fault_share=0.0, first_id=700_001)
    employees = data.employees
    await import_employees(
        driver.stack.database_url,
        await connect(Settings(env="dev", temporal_address=driver.stack.temporal_address)),
        SEASON,
        data,
        show_progress=False,
    )
    bare = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare:bare_api",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            "28100",
            "--log-level",
            "warning",
        ],
        env=driver.stack.environment(),
        cwd=ROOT,
    )
    try:
        await wait_for(lambda: _ok(driver.http, "http://127.0.0.1:28100/bare/9999999999"), 60, "bare API")
        mobiles = iter([e.actual_mobile for e in employees])
        base = await measure(
            driver.http,
            lambda: ("GET", f"http://127.0.0.1:28100/bare/{next(mobiles)}", None, None, None),
            seconds,
            concurrency,
        )
        mobiles = iter([e.actual_mobile for e in employees])
        asked = datetime.now(UTC) - timedelta(seconds=1)
        requested: list[str] = []

        def otp_request() -> Request:
            m = next(mobiles)
            requested.append(m)
            return ("POST", f"{driver.stack.url('otp')}/otp/request", {"mobile": m}, None, None)

        otp_req = await measure(driver.http, otp_request, seconds, concurrency)
        await asyncio.sleep(3)
        codes = {
            r["mobile"]: code_of(r["reference"])
            for r in await driver.db.fetch(
                f"SELECT DISTINCT ON (mobile) mobile, reference FROM otp.sms_delivery WHERE {DELIVERED_OTP} AND handled_at >= $1 "
                "AND mobile = ANY($2) ORDER BY mobile, handled_at DESC",
                asked,
                requested,
            )
        }
        pairs = iter(list(codes.items()))
        tokens: list[tuple[str, dict[str, Any]]] = []

        def otp_verify() -> Request:
            mobile, code = next(pairs)
            return (
                "POST",
                f"{driver.stack.url('otp')}/otp/verify",
                {"mobile": mobile, "code": code},
                lambda r: tokens.append((mobile, {"Authorization": f"Bearer {r.json()['token']}"})),
                None,
            )

        otp_ver = await measure(driver.http, otp_verify, seconds, concurrency)
        by_mobile = {e.actual_mobile: e for e in employees}
        ready = await gather_limited([_ready(driver, by_mobile[m], auth) for m, auth in tokens[:1500]], 32)
        forms = iter(ready)

        def submit() -> Request:
            form, auth = next(forms)
            return ("POST", f"{driver.stack.url('applications')}/applications", form, None, auth)

        sub = await measure(driver.http, submit, seconds, concurrency)
    finally:
        bare.terminate()
        bare.wait(10)
    for name, m in (("OTP request", otp_req), ("OTP verify", otp_ver), ("application submit", sub)):
        results.add(f"API {name}: requests/s (vs one-query FastAPI + asyncpg)", m["rps"], base["rps"], "req/s")
        results.add(f"API {name}: p50 latency", m["p50"], base["p50"], "ms", higher_is_better=False)
        results.add(f"API {name}: p99 latency", m["p99"], base["p99"], "ms", higher_is_better=False)
        if m["errors"]:
            results.notes.append(f"API {name}: {m['errors']} of {m['count']} requests failed: {m['first_error']}")


async def _ok(http: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await http.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


async def _ready(
    driver: Driver, employee: SyntheticEmployee, auth: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    return await driver.prepare(employee, auth), auth


async def measure(
    http: httpx.AsyncClient, next_request: Callable[[], Request], seconds: float, concurrency: int
) -> dict[str, Any]:
    """Closed-loop load: `concurrency` clients, each sending its next request as soon as the last is answered,
    for `seconds` or until the requests run out. A request is (method, url, json body, on_success, headers)."""
    latencies: list[float] = []
    errors: dict[str, Any] = {"count": 0, "first": ""}
    stop = time.monotonic() + seconds

    async def client() -> None:
        while time.monotonic() < stop:
            try:
                spec = next_request()
            except StopIteration:
                return
            method, url, body, after, headers = spec
            t = time.monotonic()
            try:
                r = await http.request(method, url, json=body, headers=headers)
            except httpx.TransportError as exc:  # a dropped connection is a failed request, counted, not a crash
                errors["count"] += 1
                errors["first"] = errors["first"] or f"{exc!r} at {urlsplit(url).path}"
                continue
            latencies.append((time.monotonic() - t) * 1000)
            if r.status_code >= 400:
                errors["count"] += 1
                errors["first"] = errors["first"] or f"{r.status_code} {r.text[:120]}"
            elif after:
                after(r)

    t0 = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.monotonic() - t0
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "count": len(latencies),
        "errors": errors["count"],
        "first_error": errors["first"],
    }


class Probe:
    """A light, paced load beside a phase (a few employees asking for OTPs), so what the phase does to the APIs'
    latency is measured against the same probe with the engine idle. `with Probe(...)` runs it until the block
    ends; requests answered with an error are counted apart."""

    CLIENTS = 4
    PAUSE = 0.1  # seconds each client waits between requests: the probe must not be the load

    def __init__(self, http: httpx.AsyncClient, next_request: Callable[[], Request]):
        self.http, self.next_request = http, next_request
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _client(self) -> None:
        while not self._stop.is_set():
            method, url, body, _, headers = self.next_request()
            t = time.monotonic()
            try:
                r = await self.http.request(method, url, json=body, headers=headers)
            except httpx.HTTPError as exc:
                self.errors.append(repr(exc))
            else:
                if r.status_code >= 400:
                    self.errors.append(f"{r.status_code} {r.text[:80]}")
                else:
                    self.latencies.append((time.monotonic() - t) * 1000)
            await asyncio.sleep(self.PAUSE)

    def __enter__(self) -> Probe:
        self._tasks = [asyncio.create_task(self._client()) for _ in range(self.CLIENTS)]
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # each client ends after its request in flight

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")

    def summary(self) -> str:
        first = f" (first: {self.errors[0]})" if self.errors else ""
        return f"{len(self.latencies)} answered, {len(self.errors)} errors{first}"


# ---- the command -----------------------------------------------------------------------------------------

PHASES = ("season", "extension", "api", "portal", "surge")


def run(
    cases: int,
    extension_cases: int,
    api_seconds: float,
    concurrency: int,
    lead_seconds: int,
    keep: bool,
    out_dir: Path | None = None,
    phases: tuple[str, ...] = PHASES,
    start_rate: float = 20.0,
    engine: str = "production",
    surge: tuple[tuple[int, ...], int] = (SURGE_USERS, SURGE_STEP_SECONDS),
) -> tuple[Path, bool]:
    """Start the bench stack, measure, and stop the stack whatever happens (Ctrl-C or SIGTERM included: a
    run started in the background ignores SIGINT). Returns where the results went and whether every phase ran."""
    signal.signal(signal.SIGTERM, interrupted)
    data_dir = Path(tempfile.mkdtemp(prefix="seva-bench-"))
    stack = LocalStack(
        data_dir,
        BENCH_PORTS,
        season_id=SEASON,
        extra_env={"SEVA_OTP_MAX_PER_CLIENT_HOUR": "1000000", "SEVA_OTP_RESEND_GAP_SECONDS": "0"},
        engine=engine,
    )
    from services.common.telemetry import setup_tracing

    setup_tracing("bench", Settings(env="dev", data_dir=data_dir))  # the bare worker runs here, traced like the others
    log(f"starting the bench stack in {data_dir}")
    stack.start()
    results = Results()  # filled as the phases go: an interrupted run still writes what it measured
    try:
        asyncio.run(
            measure_all(
                stack,
                cases,
                extension_cases,
                api_seconds,
                concurrency,
                lead_seconds,
                phases,
                start_rate,
                surge,
                results,
            )
        )
    except KeyboardInterrupt as stop:
        log(f"interrupted ({stop}): writing what was measured")
        results.notes.append(f"INTERRUPTED ({stop or 'Ctrl-C'}): the phases after the last row did not finish")
        results.failed = True
    finally:
        stack.stop()
        from opentelemetry import trace

        getattr(trace.get_tracer_provider(), "shutdown", lambda: None)()  # its last spans, before the folder goes
        if not keep:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)
    out = write(
        results,
        cases,
        extension_cases,
        api_seconds,
        concurrency,
        out_dir or ROOT / "bench" / "results",
        phases,
        engine,
        surge,
    )
    return out, not results.failed


def interrupted(signum: int, frame: object) -> None:
    """SIGTERM as Ctrl-C, so the stack is stopped (a run started in the background ignores SIGINT)."""
    raise KeyboardInterrupt(f"signal {signum}")


async def measure_all(
    stack: LocalStack,
    cases: int,
    extension_cases: int,
    api_seconds: float,
    concurrency: int,
    lead_seconds: int,
    phases: tuple[str, ...],
    start_rate: float,
    surge: tuple[tuple[int, ...], int] = (SURGE_USERS, SURGE_STEP_SECONDS),
    results: Results | None = None,
) -> Results:
    results = results if results is not None else Results()
    temporal = await connect(Settings(env="dev", temporal_address=stack.temporal_address))
    # idle connections expire before uvicorn's 5 s keep-alive does: reusing one the server is closing is a ReadError
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200, keepalive_expiry=2.0)) as http:
        db = await asyncpg.create_pool(stack.database_url, min_size=2, max_size=10)
        driver = Driver(stack, db, http)
        print(f"\n  {'measure':<58} {'seva':>23} {'baseline':>18} {'ratio':>6}")
        chosen = {
            "season": lambda: season_throughput(driver, temporal, cases, results),
            "extension": lambda: extension_fanout(driver, temporal, extension_cases, results, lead_seconds, start_rate),
            "api": lambda: api_load(driver, results, api_seconds, concurrency),
            "portal": lambda: portal_pages(driver, results, SEASON),
            "surge": lambda: last_day_surge(driver, results, SEASON, *surge),
        }
        for phase in phases:
            try:
                await chosen[phase]()
            except Exception as exc:  # a failed phase is reported in the table, the others still run
                request = getattr(exc, "_request", None)  # an httpx error names its request when it has one
                where = f" ({request.method} {request.url.path})" if request is not None else ""
                log(f"phase {phase} failed: {exc!r}{where}")
                results.notes.append(f"FAILED ({phase}): {exc!r}{where}")
                results.failed = True
            dropped = driver.dropped_note(phase)
            if dropped:
                results.notes.append(dropped)
                driver.dropped.clear()
        await db.close()
    return results


def write(
    results: Results,
    cases: int,
    extension_cases: int,
    api_seconds: float,
    concurrency: int,
    out_dir: Path,
    phases: tuple[str, ...] = PHASES,
    engine: str = "production",
    surge: tuple[tuple[int, ...], int] = (SURGE_USERS, SURGE_STEP_SECONDS),
) -> Path:
    now = datetime.now(UTC)
    machine = (
        f"{platform.node()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.platform()}, Python {platform.python_version()}"
    )
    lines = [
        f"# Benchmark {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine}",
        "",
        f"Run: `seva bench --cases {cases} --extension-cases {extension_cases} --api-seconds {api_seconds:g} "
        f"--concurrency {concurrency}"
        + ("" if tuple(phases) == PHASES else f" --phases {','.join(phases)}")
        + f" --engine {engine}"
        + (
            ""
            if surge == (SURGE_USERS, SURGE_STEP_SECONDS) or "surge" not in phases
            else f" --surge-users {','.join(map(str, surge[0]))} --surge-step-seconds {surge[1]}"
        )
        + "`",
        "",
        f"Engine: {ENGINE_NAMES[engine]}",
        "",
        "| measure | seva | baseline (same run) | ratio (seva vs baseline, >1 is better) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {m} | {s} | {b} | {r} |" for m, s, b, r in results.rows]
    lines += [""] + [f"- {n}" for n in results.notes]
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{now:%Y-%m-%dT%H%M}.md"
    for key, text in results.files.items():
        (out_dir / f"{now:%Y-%m-%dT%H%M}-{key}").write_text(text + "\n")
        lines.append(f"- beside this file: {now:%Y-%m-%dT%H%M}-{key}")
    out.write_text("\n".join(lines) + "\n")
    (out_dir / "latest.md").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
    return out
