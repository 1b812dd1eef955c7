"""The surge's judge (bench/surge.py) reads Locust's steps itself: a step with a failed request or a page over
the limit ends what counts as sustained, the phone's own requests never do, and a planted slow page is caught."""

from __future__ import annotations

from typing import Any

from bench.surge import sizing, sustained


def step(users: int, journeys: int, p95: dict[str, float], errors: int = 0) -> dict[str, Any]:
    return {
        "users": users,
        "seconds": 60,
        "journeys": journeys,
        "p95": p95,
        "error_count": errors,
        "errors": ["submit: 500"] * errors,
    }


FAST = {"home": 40.0, "submit (then the receipt)": 300.0, "phone: SMS inbox": 5000.0}


def test_the_highest_step_before_the_first_slow_page_is_the_sustained_one():
    steps = [step(4, 10, FAST), step(8, 20, FAST), step(16, 35, {**FAST, "home": 1400.0}), step(32, 60, FAST)]
    best, why = sustained(steps, 1000.0)
    assert best is steps[1]
    assert "16 users" in why and "home 1,400 ms" in why


def test_a_failed_request_ends_it_even_when_every_page_is_fast():
    steps = [step(4, 10, FAST), step(8, 20, FAST, errors=1)]
    best, why = sustained(steps, 1000.0)
    assert best is steps[0] and "1 requests failed" in why


def test_the_phones_own_inbox_is_not_a_page():
    best, why = sustained([step(4, 10, FAST)], 1000.0)
    assert best is not None and why.startswith("every step passed")


def test_no_step_passing_is_none():
    best, _ = sustained([step(4, 0, FAST)], 1000.0)
    assert best is None


def test_sizing_scales_each_process_by_what_it_spent_per_employee():
    text = sizing({"portal": 100.0, "otp": 1.0}, journeys=1000)
    # 0.1 CPU-s an employee; 30,000 a day, the peak hour 8-12x the average: 10,000-15,000 in it
    assert "portal 100 ms/employee, 0.3-0.4 cores" in text
    assert "otp" not in text  # under a twentieth of a core at the peak
