"""The last-day surge: employees through the portal as phones, at rising rates until a page's p95 passes 1 s or
a request fails (bench/surge_locust.py, Locust headless in a process of its own, bounded in steps and time).

The driver reads Locust's steps and judges them itself (every request answered, every page's p95 within the
limit), reports the highest rate sustained, the pages' p95 there beside the same pages at the lowest step, and
what each process spent per employee: from that, how many cores of each the real season's peak hour needs."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from contract.search_attributes import cases_where
from deploy.local.journey import PAN, aadhaar_for, application_form
from deploy.local.seed import import_employees
from deploy.local.synthetic import generate
from services.common.settings import Settings
from services.common.temporal import connect

from .meters import CpuMeter, at_least, log, wait_for

LOCUSTFILE = Path(__file__).with_name("surge_locust.py")
USERS = (4, 8, 16, 32, 64, 128)
STEP_SECONDS = 60
P95_LIMIT_MS = 1000.0
JOURNEY_SECONDS = 12  # at least (14 pages with a second's pause between): how many employees a step can take
AADHAAR = "3"  # the benchmark's (deploy/local/journey.py)
# The real season's last day, as the issue puts it: 30,000 employees, the peak hour ten times the average hour
# (read as a range: eight to twelve times)
LAST_DAY = 30_000
PEAK_FACTORS = (8, 10, 12)


def sustained(steps: list[dict[str, Any]], limit_ms: float) -> tuple[dict[str, Any] | None, str]:
    """The highest step that passed, every step before it passing too: (step, why the next one did not)."""
    best: dict[str, Any] | None = None
    for step in steps:
        pages = {n: ms for n, ms in step["p95"].items() if not n.startswith("phone: ")}
        over = {n: ms for n, ms in pages.items() if ms > limit_ms}
        if step["error_count"]:
            return best, f"at {step['users']} users, {step['error_count']} requests failed: {step['errors'][:1]}"
        if over:
            return best, f"at {step['users']} users, p95 over {limit_ms:.0f} ms: " + ", ".join(
                f"{n} {ms:,.0f} ms" for n, ms in over.items()
            )
        if not step["journeys"]:
            return best, f"at {step['users']} users no employee finished"
        best = step
    return best, "every step passed (the last step was the bound)"


async def last_day_surge(
    driver: Any, results: Any, season: str, users: tuple[int, ...] = USERS, step_seconds: int = STEP_SECONDS
) -> None:

    stack = driver.stack
    # more than the steps can take: running out ends the surge, and the note says so
    employees = sum(users) * step_seconds // JOURNEY_SECONDS + 50
    data = generate(employees, seed=37, fault_share=0.0, first_id=300_001)
    log(f"surge: importing {employees} employees who apply on the last day")
    temporal = await connect(Settings(env="dev", temporal_address=stack.temporal_address))

    async def waiting() -> int:
        return (await temporal.count_workflows(cases_where("CaseStage = 'awaiting_registration'"))).count

    before = await waiting()
    await import_employees(stack.database_url, temporal, season, data, show_progress=False)
    # the surge starts on a quiet engine: every new case opened and waiting (else the first step measures the
    # engine opening 1,000 cases, not the portal; found when it failed at 4 users)
    await wait_for(lambda: at_least(waiting, before + employees), 900, "the surge's employees' cases waiting")
    folder = Path(tempfile.mkdtemp(prefix="seva-surge-"))
    people = [
        {
            "mobile": e.actual_mobile,
            "aadhaar": aadhaar_for(e.master["employee_id"], AADHAAR),
            "pan": PAN,
            "form": application_form(e.master),
        }
        for e in data.employees
    ]
    (folder / "employees.json").write_text(json.dumps(people))
    out = folder / "steps.json"
    env = {
        **os.environ,
        "SEVA_SURGE_EMPLOYEES": str(folder / "employees.json"),
        "SEVA_SURGE_OTP_URL": stack.url("otp"),
        "SEVA_SURGE_OUT": str(out),
        "SEVA_SURGE_USERS": ",".join(map(str, users)),
        "SEVA_SURGE_STEP_SECONDS": str(step_seconds),
        "SEVA_SURGE_P95_MS": str(P95_LIMIT_MS),
    }
    bound = len(users) * step_seconds + 60
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", stack.portal_url]
    argv += ["--run-time", f"{bound}s", "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "30"]
    log(f"surge: Locust, {', '.join(map(str, users))} users, {step_seconds} s a step, until a page's p95 > 1 s")
    with CpuMeter(stack) as cpu:
        locust = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        own = psutil.Process(locust.pid)
        spent, give_up = 0.0, time.monotonic() + bound + 120
        while locust.poll() is None:
            try:
                times = own.cpu_times()
                spent = times.user + times.system
            except psutil.Error:
                pass
            await asyncio.sleep(1)
            if time.monotonic() > give_up:
                locust.kill()
                raise TimeoutError("Locust did not stop by itself")
    text = locust.stdout.read().decode(errors="replace") if locust.stdout else ""
    if not out.exists():
        raise RuntimeError(f"Locust wrote no steps (exit {locust.returncode}): {text[-800:]}")
    report = json.loads(out.read_text())
    steps = report["steps"]
    best, why = sustained(steps, P95_LIMIT_MS)
    journeys = sum(s["journeys"] for s in steps)
    results.notes.append(
        cpu.note(f"surge, {journeys} employees through the portal")
        + f"; Locust itself (the phones) {spent:,.0f} CPU-s on the same cores"
    )
    results.notes.append(
        "surge steps (users: employees finished, worst page p95): "
        + "; ".join(
            f"{s['users']}: {s['journeys']}, "
            + (f"{max(v for n, v in s['p95'].items() if not n.startswith('phone: ')):,.0f} ms" if s["p95"] else "-")
            + (f", {s['error_count']} failed" if s["error_count"] else "")
            for s in steps
        )
        + f". The surge stopped {report['stopped']}; judged here: {why}"
        + (" (the employees ran out)" if report["ran_out"] else "")
    )
    if best is None:
        results.notes.append("surge: FAILED: not even the first step passed")
        results.failed = True
        return
    per_hour = best["journeys"] / best["seconds"] * 3600
    results.add(
        f"surge: employees through the portal per hour, sustained ({best['users']} users)", per_hour, None, "/h"
    )
    first = steps[0]
    for name in sorted(best["p95"]):
        if name.startswith("phone: "):
            continue
        results.add(
            f"surge page p95 at that rate: {name} (vs {first['users']} users)",
            best["p95"][name],
            first["p95"].get(name),
            "ms",
            higher_is_better=False,
        )
    stack_cpu = {n: s for n, s in cpu.used.items() if n != "bench driver"}  # the driver only waits here
    results.notes.append(sizing(stack_cpu, journeys))


def sizing(cpu_seconds: dict[str, float], journeys: int) -> str:
    """Cores of each process for the real last day's peak hour, from what each spent per employee here."""
    if not journeys:
        return "surge sizing: no employee finished"
    parts = []
    for name, secs in sorted(cpu_seconds.items(), key=lambda kv: -kv[1]):
        per = secs / journeys
        cores = [per * LAST_DAY * f / 24 / 3600 for f in PEAK_FACTORS]
        if cores[-1] >= 0.05:
            parts.append(f"{name} {per * 1000:,.0f} ms/employee, {cores[0]:.1f}-{cores[-1]:.1f} cores")
    return (
        f"surge sizing: the last day's peak hour, {LAST_DAY:,} employees a day with the peak hour "
        f"{PEAK_FACTORS[0]}-{PEAK_FACTORS[-1]}x the average ({LAST_DAY * PEAK_FACTORS[0] // 24:,}-"
        f"{LAST_DAY * PEAK_FACTORS[-1] // 24:,} employees in it), needs CPU per process of: " + "; ".join(parts)
    )
