"""/otp/request and /otp/verify must not tell anyone which mobile numbers are on a service record: the same
status, body and headers for a number on record and one that is not, and the same time to answer (both
paths run the same statements; nothing sleeps to hide a difference)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

pytestmark = pytest.mark.stack

SAMPLES = 200
IGNORED_HEADERS = {"date"}


async def _add_employees(db, count: int) -> list[str]:
    """Numbers on record, each asked for once (the per-number limits would answer a second ask with a 429)."""
    mobiles = [f"70{n:08d}" for n in range(41_000, 41_000 + count)]
    await db.executemany(
        "INSERT INTO otp.employee_master (employee_id, employee_group, data_owner, name, father_name, date_of_birth, "
        "mobile, family_id, department_code, district, post_code, ddo_code, date_of_joining, service_periods, "
        "sanctioned_post, pay_head) VALUES ($1, 'part1', 'HKRN', 'Timing Test', 'Timing Father', '1985-01-01', $2, "
        "'9Z000001', 'HEALTH', 'Rohtak', 'CLERK', 'DDO-HEALTH-ROHTAK', '2015-01-01', '[]', true, 'Contractual') "
        "ON CONFLICT DO NOTHING",
        [(f"EMPT{n:06d}", m) for n, m in enumerate(mobiles)],
    )
    return mobiles


def _shape(r) -> tuple[Any, ...]:
    return r.status_code, {k: v for k, v in r.headers.items() if k not in IGNORED_HEADERS}


async def _timed(http, url: str, body: dict[str, Any]):
    start = time.perf_counter()
    r = await http.post(url, json=body)
    return r, (time.perf_counter() - start) * 1000


async def test_request_and_verify_answer_alike_for_numbers_on_record_and_not(stack, http, db, master, capsys):
    known = await _add_employees(db, SAMPLES)
    unknown = [f"71{n:08d}" for n in range(41_000, 41_000 + SAMPLES)]
    otp = stack.url("otp")
    # Warm both paths first (connections, caches) so neither pays it in the measurement.
    for m in ("7099999990", "7199999990"):
        await http.post(f"{otp}/otp/request", json={"mobile": m})

    times: dict[str, tuple[list[float], list[float]]] = {"request": ([], []), "verify": ([], [])}
    for endpoint, body in (("request", lambda m: {"mobile": m}), ("verify", lambda m: {"mobile": m, "code": "000000"})):
        for k, u in zip(known, unknown):
            # alternate which goes first, so drift in the machine's load falls on both alike
            pair = [(0, k), (1, u)] if len(times[endpoint][0]) % 2 == 0 else [(1, u), (0, k)]
            answers = {}
            for side, mobile in pair:
                r, ms = await _timed(http, f"{otp}/otp/{endpoint}", body(mobile))
                times[endpoint][side].append(ms)
                answers[side] = r
            assert _shape(answers[0]) == _shape(answers[1]), (endpoint, answers[0].text, answers[1].text)
            if endpoint == "verify":
                assert answers[0].json() == answers[1].json()
                assert answers[0].status_code == 400 and answers[0].json()["code"] == "otp_invalid"
            else:
                assert answers[0].status_code == 202
                assert set(answers[0].json()) == set(answers[1].json())
                assert answers[0].json()["message"] == answers[1].json()["message"]

    report = []
    for endpoint, (on_record, not_on_record) in times.items():
        a, b = statistics.median(on_record), statistics.median(not_on_record)
        report.append(
            f"/otp/{endpoint}: median {a:.2f} ms on record, {b:.2f} ms not on record, "
            f"difference {abs(a - b):.2f} ms over {SAMPLES} requests each"
        )
    with capsys.disabled():
        print("\n" + "\n".join(report))
    (stack.data_dir / "otp-enumeration-timing.txt").write_text("\n".join(report) + "\n")
    for on_record, not_on_record in times.values():
        assert abs(statistics.median(on_record) - statistics.median(not_on_record)) < 1.0, report


async def test_why_no_otp_does_not_tell_whether_a_number_is_on_someone_elses_record(stack, http, master):
    employee, other = [e for e in master.employees if e.fault is None][10:12]
    m = employee.master
    ask = {"family_id": m["family_id"], "date_of_birth": str(employee.ppp["date_of_birth"])}
    on_other_record = await http.post(
        f"{stack.url('otp')}/otp/why-no-otp", json={**ask, "mobile": other.master["mobile"]}
    )
    on_no_record = await http.post(f"{stack.url('otp')}/otp/why-no-otp", json={**ask, "mobile": "7300000017"})
    assert on_other_record.status_code == on_no_record.status_code == 200
    a, b = on_other_record.json()["causes"], on_no_record.json()["causes"]
    assert [c["code"] for c in a] == [c["code"] for c in b] == ["record_has_different_mobile"]
    masked_other = f"{other.master['mobile'][:2]}XXXXXX{other.master['mobile'][-2:]}"
    assert a[0]["message"].replace(masked_other, "N") == b[0]["message"].replace("73XXXXXX17", "N")


async def test_why_no_otp_is_limited_per_family_id(stack, http, master):
    from services.common.settings import OtpSettings

    employee = [e for e in master.employees if e.fault is None][13]
    guess = {"family_id": employee.master["family_id"], "mobile": employee.master["mobile"]}
    limit = OtpSettings().why_no_otp_per_family_hour
    for day in range(1, limit + 1):  # someone guessing the date of birth
        r = await http.post(f"{stack.url('otp')}/otp/why-no-otp", json={**guess, "date_of_birth": f"1901-01-{day:02d}"})
        assert r.status_code == 422, r.text
    r = await http.post(
        f"{stack.url('otp')}/otp/why-no-otp", json={**guess, "date_of_birth": str(employee.ppp["date_of_birth"])}
    )
    assert r.status_code == 429 and r.json()["code"] == "diagnosis_limit" and int(r.headers["retry-after"]) > 0
