"""What the end-to-end tests do again and again: log people in, submit, wait for the pipeline, check errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from contract import OFFICIAL_2025_26, CaseStatus, SeasonCalendar, Stage, case_workflow_id, shifted
from deploy.local.journey import application_form
from deploy.local.oidc import officer_token_async
from deploy.local.seed import import_employees
from ops.database import put_calendar

from .conftest import OTP_CODES_SEEN, SEASON, eventually, prepare_application


async def case_stage(temporal, employee_id: str, season: str = SEASON) -> CaseStatus:
    """The case of the stack's season (or of `season`)."""
    return await temporal.get_workflow_handle(case_workflow_id(employee_id, season)).query(
        "status", result_type=CaseStatus
    )


async def officer_headers(stack, http, officer_id: str) -> dict[str, Any]:
    """An officer's token from the stack's identity provider (client credentials for a seeded officer)."""
    return {"Authorization": f"Bearer {await officer_token_async(http, stack.oidc_issuer, officer_id)}"}


async def in_ddo_queue(stack, http, ddo_headers: dict[str, Any], application_no: str) -> None:
    """The stage moves to awaiting_ddo_verification just before the task reaches the DDO's queue."""

    async def probe():
        r = await http.get(f"{stack.url('verification')}/verification/queue", headers=ddo_headers)
        return any(item["application_no"] == application_no for item in r.json())

    await eventually(probe, what=f"{application_no} in the DDO's queue")


async def read_otp(stack, http, mobile: str, after: int = 0) -> str:
    async def probe():
        r = await http.get(f"{stack.url('otp')}/dev/sms", params={"mobile": mobile})
        otps = [m for m in r.json() if m["template"] == "otp" and m["outcome"] == "delivered"]
        return otps[after:] and otps[-1]

    message = await eventually(probe, what=f"OTP SMS #{after + 1} for {mobile[-2:]}")
    assert message["template_id"] and message["language"] in ("hi", "en")
    found = re.search(r"\b(\d{6})\b", message["body"])
    assert found, "the OTP SMS holds a six-digit code"
    code = found.group(1)
    OTP_CODES_SEEN.append(code)
    return code


async def stage_is(temporal, employee_id: str, stage: str) -> bool:
    return (await case_stage(temporal, employee_id)).stage == stage


def assert_error(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"].endswith(".") and len(body["message"]) > 15


async def otps_delivered(stack, http, mobile: str) -> int:
    r = await http.get(f"{stack.url('otp')}/dev/sms", params={"mobile": mobile})
    return len([m for m in r.json() if m["template"] == "otp" and m["outcome"] == "delivered"])


async def employee_session(stack, http, employee) -> dict[str, Any]:
    """A session by OTP. The code is read from the message that arrives after this request: a code sent to the
    same number earlier (by another test) is not this one (found when a test took the inbox's last code before
    the new one came: otp_invalid)."""
    before = await otps_delivered(stack, http, employee.actual_mobile)
    await http.post(f"{stack.url('otp')}/otp/request", json={"mobile": employee.actual_mobile})
    code = await read_otp(stack, http, employee.actual_mobile, after=before)
    r = await http.post(f"{stack.url('otp')}/otp/verify", json={"mobile": employee.actual_mobile, "code": code})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def submitted_and_queued(stack, http, temporal, employee) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """An employee logs in, prepares and submits; returns when the application is in the DDO's queue.
    Gives the application number, the employee's headers and the DDO's headers."""
    m = employee.master
    auth = await employee_session(stack, http, employee)
    await prepare_application(stack, http, auth, m["employee_id"])
    r = await http.post(f"{stack.url('applications')}/applications", json=application_form(m), headers=auth)
    assert r.status_code == 201, r.text
    await eventually(lambda: stage_is(temporal, m["employee_id"], Stage.AWAITING_DDO_VERIFICATION), what="submitted")
    ddo = await officer_headers(stack, http, f"OFF-{m['ddo_code']}")
    await in_ddo_queue(stack, http, ddo, r.json()["application_no"])
    return r.json()["application_no"], auth, ddo


async def season_closing_soon(stack, temporal, db, season: str, seconds: float, data) -> SeasonCalendar:
    """A season of its own (the 2025-26 dates moved to now) whose registration closes `seconds` from now, with the
    employees of `data` imported and their cases started: for what happens at and after a close."""
    now = datetime.now(UTC)
    calendar = shifted(OFFICIAL_2025_26, season, now - timedelta(days=1))
    calendar.registration_close = now + timedelta(seconds=seconds)
    await put_calendar(db, calendar, "e2e", "a registration deadline about to pass")
    await import_employees(stack.database_url, temporal, season, data, show_progress=False)
    return calendar
