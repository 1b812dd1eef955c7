"""Bad input to every endpoint gets a 4xx with a stable code and a plain sentence, never a 500."""

from __future__ import annotations

import pytest

from .helpers import assert_error, employee_session, officer_headers, read_otp

pytestmark = pytest.mark.stack


def employees_without_fault(master, skip: int):
    return [e for e in master.employees if e.fault is None][skip:]


async def test_an_expired_otp_is_refused_and_says_so(stack, master, http, db):
    employee = employees_without_fault(master, 1)[0]
    r = await http.post(f"{stack.url('otp')}/otp/request", json={"mobile": employee.actual_mobile})
    assert r.status_code == 202
    code = await read_otp(stack, http, employee.actual_mobile)
    # Move the code past its 10 minutes rather than wait them out.
    await db.execute(
        "UPDATE otp.otp_challenge SET expires_at = now() - interval '1 second' WHERE mobile = $1",
        employee.actual_mobile,
    )
    r = await http.post(f"{stack.url('otp')}/otp/verify", json={"mobile": employee.actual_mobile, "code": code})
    assert_error(r, 400, "otp_expired")


async def test_wrong_otps_count_down_and_then_lock_the_code(stack, master, http):
    employee = employees_without_fault(master, 2)[0]
    await http.post(f"{stack.url('otp')}/otp/request", json={"mobile": employee.actual_mobile})
    code = await read_otp(stack, http, employee.actual_mobile)
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        r = await http.post(f"{stack.url('otp')}/otp/verify", json={"mobile": employee.actual_mobile, "code": wrong})
        assert_error(r, 400, "otp_invalid")
        assert r.json()["details"]["tries_left"] == left
    r = await http.post(f"{stack.url('otp')}/otp/verify", json={"mobile": employee.actual_mobile, "code": wrong})
    assert_error(r, 400, "otp_attempts_exhausted")
    # Even the right code is refused now: a new OTP is needed.
    r = await http.post(f"{stack.url('otp')}/otp/verify", json={"mobile": employee.actual_mobile, "code": code})
    assert_error(r, 400, "otp_attempts_exhausted")


async def test_a_second_otp_within_a_minute_is_refused_with_the_wait(stack, master, http):
    employee = employees_without_fault(master, 3)[0]
    assert (
        await http.post(f"{stack.url('otp')}/otp/request", json={"mobile": employee.actual_mobile})
    ).status_code == 202
    r = await http.post(f"{stack.url('otp')}/otp/request", json={"mobile": employee.actual_mobile})
    assert_error(r, 429, "otp_resend_too_soon")
    assert 0 < r.json()["details"]["retry_after_seconds"] <= 61


async def test_a_number_not_on_record_gets_the_same_answer_and_no_sms(stack, http):
    r = await http.post(f"{stack.url('otp')}/otp/request", json={"mobile": "6000000001"})
    assert r.status_code == 202 and "Why no OTP" in r.json()["message"]
    r = await http.post(f"{stack.url('otp')}/otp/verify", json={"mobile": "6000000001", "code": "123456"})
    assert_error(r, 400, "otp_invalid")


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"mobile": "12345"}, 422, "invalid_mobile"),
        ({"mobile": "5876543210"}, 422, "invalid_mobile"),
        ({}, 422, "invalid_request"),
        ({"mobile": 9876543210}, 422, "invalid_request"),
    ],
)
async def test_otp_request_rejects_bad_bodies(stack, http, body, status, code):
    assert_error(await http.post(f"{stack.url('otp')}/otp/request", json=body), status, code)


@pytest.mark.parametrize(
    "body",
    [{"mobile": "9876543210", "code": "12345"}, {"mobile": "9876543210", "code": "abcdef"}, {"mobile": "9876543210"}],
)
async def test_otp_verify_rejects_malformed_codes(stack, http, body):
    assert_error(await http.post(f"{stack.url('otp')}/otp/verify", json=body), 422, "invalid_request")


async def test_a_body_that_is_not_json_is_a_clear_422(stack, http):
    r = await http.post(
        f"{stack.url('otp')}/otp/request", content=b"mobile=98", headers={"content-type": "application/json"}
    )
    assert_error(r, 422, "invalid_request")


async def test_applications_refuse_unknown_numbers_bad_choices_and_missing_sessions(stack, master, http):
    employee = employees_without_fault(master, 4)[0]
    auth = await employee_session(stack, http, employee)
    base = stack.url("applications")
    assert_error(await http.get(f"{base}/applications/SS-E2E-9999999", headers=auth), 404, "application_not_found")
    m = employee.master
    form = {
        "department_code": m["department_code"],
        "district": m["district"],
        "post_code": m["post_code"],
        "ddo_code": m["ddo_code"],
        "date_of_joining": "2015-04-01",
    }
    assert_error(await http.post(f"{base}/applications", json=form), 401, "unauthenticated")
    assert_error(
        await http.post(f"{base}/applications", json=form, headers={"Authorization": "Bearer nonsense"}),
        401,
        "invalid_token",
    )
    other_district = next(d for d in master.districts if d != m["district"])
    assert_error(
        await http.post(f"{base}/applications", json={**form, "district": other_district}, headers=auth),
        422,
        "ddo_mismatch",
    )
    assert_error(
        await http.post(f"{base}/applications", json={**form, "post_code": "ASTRONAUT"}, headers=auth),
        422,
        "unknown_post",
    )
    assert_error(
        await http.post(f"{base}/applications", json={**form, "date_of_joining": "31-02-2015"}, headers=auth),
        422,
        "invalid_request",
    )


async def test_officers_are_held_to_their_roles_and_scope(stack, master, http):
    employee = employees_without_fault(master, 5)[0]
    auth = await employee_session(stack, http, employee)
    base = stack.url("verification")
    assert_error(await http.get(f"{base}/verification/queue", headers=auth), 403, "forbidden")
    someone_elses = next(d["ddo_code"] for d in master.ddos if d["ddo_code"] != employee.master["ddo_code"])
    ddo = await officer_headers(stack, http, f"OFF-{someone_elses}")
    r = await http.post(
        f"{base}/verification/applications/SS-E2E-0000001/decision", json={"decision": "verified"}, headers=ddo
    )
    assert_error(r, 404, "application_not_in_queue")
    r = await http.post(
        f"{base}/verification/applications/SS-E2E-0000001/decision", json={"decision": "maybe"}, headers=ddo
    )
    assert_error(r, 422, "invalid_request")
    r = await http.post(
        f"{base}/verification/applications/SS-E2E-0000001/decision",
        json={"decision": "rejected", "reasons": ["looks_odd"]},
        headers=ddo,
    )
    assert_error(r, 422, "invalid_request")
    r = await http.post(
        f"{base}/verification/applications/SS-E2E-0000001/decision",
        json={"decision": "rejected", "reasons": []},
        headers=ddo,
    )
    assert_error(r, 422, "reasons_required")
    # the identity provider gives an unknown client a token, but not one for this audience with an officer's role
    nobody = await officer_headers(stack, http, "NOBODY")
    assert_error(await http.get(f"{base}/verification/queue", headers=nobody), 401, "invalid_token")
    orders = stack.url("orders")
    assert_error(await http.post(f"{orders}/posts", json={"application_nos": ["SS-X"]}, headers=ddo), 403, "forbidden")
    finance = await officer_headers(stack, http, "FIN-1")
    assert_error(
        await http.post(f"{orders}/posts", json={"application_nos": []}, headers=finance), 422, "invalid_request"
    )
    assert_error(
        await http.post(f"{orders}/posts", json={"application_nos": ["SS-NOPE"]}, headers=finance),
        404,
        "case_not_awaiting_post",
    )
    hod = await officer_headers(stack, http, "HOD-HEALTH")
    assert_error(await http.post(f"{orders}/orders/SS-NOPE/approve", headers=hod), 404, "case_not_in_department")
    assert_error(await http.get(f"{orders}/orders/SSO/2026/HEALTH/999999/verify"), 404, "order_not_found")
    assert_error(await http.get(f"{orders}/no/such/page"), 404, "not_found")


async def test_the_readiness_probe_says_ready_or_not_and_only_ops_read_why(stack, http):
    """/readyz answered anyone with repr() of database errors and dead-letter counts. The probe now says ready
    or not; the detail is for the ops role, and any other caller is refused, logged."""
    for service in ("otp", "applications", "verification", "orders"):
        probe = await http.get(f"{stack.url(service)}/readyz")
        assert probe.status_code == 200 and probe.json() == {"service": service, "status": "ready"}
    cases = await http.get(f"http://127.0.0.1:{stack.ports.cases_health}/readyz")
    assert cases.json() == {"service": "cases", "status": "ready"}
    detail = f"{stack.url('otp')}/ops/readiness"
    assert_error(await http.get(detail), 401, "unauthenticated")
    assert_error(await http.get(detail, headers=await officer_headers(stack, http, "FIN-1")), 403, "forbidden")
    ops = await officer_headers(stack, http, "OPS-1")
    report = (await http.get(detail, headers=ops)).json()
    assert report["ready"] and report["database"] == "ok" and report["components"] and "dead_letters" in report
    cases_detail = await http.get(f"http://127.0.0.1:{stack.ports.cases_health}/ops/readiness", headers=ops)
    assert cases_detail.status_code == 200 and cases_detail.json()["components"]
    assert_error(await http.get(f"http://127.0.0.1:{stack.ports.cases_health}/ops/readiness"), 401, "unauthenticated")
