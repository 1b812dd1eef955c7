"""Every form and route of the portal, fuzzed (tests/e2e/portal_fuzz.py), as nobody, as a signed-in employee and
as each kind of officer signed in through the identity provider: no status on the way may be a 5xx. The
services' fuzzing (test_zy_fuzz_api.py) works from their OpenAPI; the portal serves forms, so its vocabulary is
what its handlers declare and read and what its pages render for each caller. Runs late: it writes (OTP
requests, refused decisions, returned forms)."""

from __future__ import annotations

import os

import httpx
import pytest
import pytest_asyncio

from services.portal import employee as employee_routes
from services.portal import officer as officer_routes
from services.portal import pages as page_routes

from .browser import officer_page
from .helpers import otps_delivered, read_otp
from .portal_fuzz import crawl, fuzz, targets

pytestmark = pytest.mark.stack

EXAMPLES = int(os.environ.get("SEVA_FUZZ_EXAMPLES", "5"))
RANDOM = os.environ.get("SEVA_FUZZ_RANDOM") == "1"
ROUTES = [*employee_routes.router.routes, *officer_routes.router.routes, *page_routes.router.routes]
# Only nobody signs out (a signed-in caller's sign-out would end the session the next requests hold), and no
# officer fuzzes the calendar (a generated change would move the e2e season's deadlines: test_calendar.py tests
# its refusals, and nobody and the employee still fuzz it here)
SIGN_OUT = {"POST /logout", "POST /officer/logout"}
OFFICERS_SKIP = {"POST /desk/calendar"}


async def portal_employee_cookies(stack, http, employee) -> dict[str, str]:
    """Signed in at the portal as an employee would be: the mobile, the code from the SMS."""
    origin = {"Origin": stack.portal_url}
    async with httpx.AsyncClient(base_url=stack.portal_url, timeout=30) as client:
        before = await otps_delivered(stack, http, employee.actual_mobile)
        r = await client.post("/login", data={"mobile": employee.actual_mobile}, headers=origin)
        assert r.status_code == 303, r.text[:300]
        code = await read_otp(stack, http, employee.actual_mobile, after=before)
        r = await client.post("/login/verify", data={"code": code}, headers=origin)
        assert r.headers.get("location") == "/me", r.text[:300]
        return dict(client.cookies)


@pytest_asyncio.fixture(scope="module")
async def callers(stack, http, master, browser) -> dict[str, dict[str, str]]:
    employee = [e for e in master.employees if e.fault is None][21]
    ddo = master.ddos[0]
    callers = {"nobody": {}, "employee": await portal_employee_cookies(stack, http, employee)}
    for role, officer_id in (
        ("ddo", f"OFF-{ddo['ddo_code']}"),
        ("hod", f"HOD-{ddo['department_code']}"),
        ("finance", "FIN-1"),
        ("data_officer", "DATA-HKRN"),
        ("administrator", "ADMIN-HR"),
    ):
        page = await officer_page(browser, stack, officer_id)
        callers[role] = {c["name"]: c["value"] for c in await page.context.cookies()}
        await page.context.close()
    return callers


@pytest.mark.parametrize("who", ["nobody", "employee", "ddo", "hod", "finance", "data_officer", "administrator"])
async def test_no_form_or_route_of_the_portal_answers_5xx(stack, callers, who):
    cookies = callers[who]

    def client() -> httpx.Client:
        return httpx.Client(base_url=stack.portal_url, cookies=cookies, timeout=60, follow_redirects=True)

    found = targets(ROUTES)
    with client() as c:
        failures = crawl(c, found)
    skip = (SIGN_OUT if who != "nobody" else set()) | (OFFICERS_SKIP if who not in ("nobody", "employee") else set())
    calls = 0
    for target in found:
        if target.label in skip:
            continue
        sent, failed = fuzz(client, target, EXAMPLES, stack.portal_url, derandomize=not RANDOM)
        calls += sent
        failures += [f"{who} {f}" for f in failed]
    learnt = sum(len(t.names) for t in found)
    print(
        f"\nportal as {who}: {len(found)} routes, {learnt} field names, {calls} generated requests, "
        f"{len(failures)} with a 5xx"
    )
    assert calls >= EXAMPLES * (len(found) - len(skip))
    assert not failures, "\n".join(failures[:20])
