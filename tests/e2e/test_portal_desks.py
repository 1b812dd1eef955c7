"""A DDO's day in the surge, in the browser, on the real stack: 52 applications in one office's queue (records
loaded with `seva import --records` as a data owner would, each employee signed in by OTP and submitted through
the APIs), the queue paged past 50 with the true total, a case with its documents shown inline beside the
record, a bulk verification of a whole page refused until confirmed; and the HoD and Finance desks open on their
own work."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from deploy.local.journey import application_form
from services.otp.records import COLUMNS

from .browser import check_page, officer_page
from .conftest import eventually, prepare_application
from .helpers import employee_session

pytestmark = pytest.mark.stack

SURGE = 52  # more than a page (50)


def _import(stack, rows: list[dict[str, str]], folder: Path) -> None:
    path = folder / "hkrn.csv"
    path.write_text("\n".join([",".join(COLUMNS)] + [",".join(r[c] for c in COLUMNS) for r in rows]) + "\n")
    env = {**os.environ, **{k: v for k, v in stack.environment().items() if k.startswith("SEVA_")}}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "seva"), "import", "--records", f"HKRN={path}"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=folder,
    )
    assert done.returncode == 0 and f"{len(rows)} cases started" in done.stdout, done.stdout + done.stderr


async def test_a_ddos_day_in_the_surge(stack, master, http, browser, db, tmp_path):
    ddo = master.ddos[-1]
    rows = [
        {
            "employee_id": f"HKD{9_000_000 + i:07d}",  # digits after three letters: its test Aadhaar
            "employee_group": "part1",
            "name": f"Surge Employee {i}",
            "father_name": "Surge Father",
            "date_of_birth": "1986-07-21",
            "mobile": f"95550{i:05d}",
            "family_id": f"DAY{i:05d}",
            "department_code": ddo["department_code"],
            "district": ddo["district"],
            "post_code": "CLERK",
            "ddo_code": ddo["ddo_code"],
            "date_of_joining": "2015-06-01",
            "service_periods": "2015-06-01/",
            "sanctioned_post": "yes",
            "pay_head": "2202-01-101-99-51-Contractual Services",
            "status": "active",
        }
        for i in range(1, SURGE + 1)
    ]
    _import(stack, rows, tmp_path)
    sent_before = await db.fetchval("SELECT count(*) FROM otp.send_log WHERE requested_at > now() - interval '1 hour'")
    print(f"\nOTP requests in the last hour before the surge: {sent_before}")

    limit = asyncio.Semaphore(6)

    async def submitted(row: dict[str, str]) -> str:
        async with limit:
            auth = await employee_session(stack, http, SimpleNamespace(actual_mobile=row["mobile"], master=row))
            await prepare_application(stack, http, auth, row["employee_id"])
            r = await http.post(f"{stack.url('applications')}/applications", json=application_form(row), headers=auth)
            assert r.status_code == 201, r.text
            return str(r.json()["application_no"])

    numbers = set(await asyncio.gather(*(submitted(r) for r in rows)))
    assert len(numbers) == SURGE

    # the queue: a page of 50 with the true total, and the rest on the next page
    page = await officer_page(browser, stack, f"OFF-{ddo['ddo_code']}")
    assert page.url.endswith("/desk/queue")  # a DDO's desk opens on the queue

    async def all_queued():
        await page.goto("/desk/queue")
        total = int(await page.get_attribute("#queue-rows", "data-total") or 0)
        return total >= SURGE and total

    total = await eventually(all_queued, timeout=120, interval=1, what="the surge in the DDO's queue")
    first = await page.locator("table.queue tbody tr").count()
    assert first == 50
    assert f"{total}" in await page.inner_text("#queue-rows p[role=status]")
    await check_page(page, "ddo-queue-page-1")
    await page.click("nav.pages a[rel=next]")
    await page.wait_for_url("**page=2")
    second = await page.locator("table.queue tbody tr").count()
    assert first + second == total if total <= 100 else second == 50
    seen = set()
    for n in (1, 2):
        await page.goto(f"/desk/queue?page={n}")
        seen |= set(await page.locator("table.queue tbody tr").evaluate_all("rs => rs.map(r => r.dataset.application)"))
    assert numbers <= seen, f"{len(numbers - seen)} submitted applications on neither page"

    # a case: the documents inline (framed by the portal's own page, not refused) beside the record
    one = sorted(numbers)[0]
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text) if "frame" in msg.text.lower() else None)
    await page.goto(f"/desk/applications/{one}")
    objects = page.locator("object.inline-doc")
    assert await objects.count() >= 6
    r = await page.request.get(str(await objects.first.get_attribute("data")))
    assert r.status == 200 and r.headers["content-type"] == "application/pdf"
    assert "frame-ancestors 'self'" in r.headers["content-security-policy"]
    assert refused == [], refused
    record = await page.inner_text("section[aria-labelledby=h-record]")
    assert "Surge Employee" in record and "Surge Father" in record
    await check_page(page, "ddo-review-inline")

    # bulk verify a whole page: select all, refused without the confirmation, then each item reported
    await page.goto("/desk/queue")
    await page.check("#select-all")
    chosen = await page.locator("input[name=application_no]:checked").count()
    assert chosen == 50
    await page.evaluate("document.getElementById('c-bulk').required = false")  # as a browser without the check
    await page.click("main form[action='/desk/queue/verify'] button[type=submit]")
    assert await page.locator("table.bulk-result tbody tr.failed").count() == 1  # confirm first: nothing sent
    assert await page.locator("table.bulk-result tbody tr.ok").count() == 0
    await page.check("#select-all")
    await page.check("#c-bulk")
    await page.click("main form[action='/desk/queue/verify'] button[type=submit]")
    assert await page.locator("table.bulk-result tbody tr.ok").count() == 50
    await check_page(page, "ddo-bulk-verified")

    # the other desks open on their own work
    finance = await officer_page(browser, stack, "FIN-1")
    assert finance.url.endswith("/desk/posts")
    hod = await officer_page(browser, stack, f"HOD-{ddo['department_code']}")
    assert hod.url.endswith("/desk/approvals")
