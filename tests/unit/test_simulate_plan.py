"""The season simulator's plan and report, apart from the stack: the same seed draws the same season; arrivals
fall in the window with the surge before the deadline and a few who never come; every eligible employee who
came and did not submit in time is listed with the reason."""

from __future__ import annotations

import random
from collections import Counter

from bench.simulate import Person, Plan, write_report
from deploy.local.synthetic import generate


def test_the_same_seed_draws_the_same_arrivals_with_a_surge_before_the_deadline():
    plan = Plan.for_size(2000, seed=7)
    first = [plan.arrival(random.Random(7)) for _ in range(1)]
    rng_a, rng_b = random.Random(7), random.Random(7)
    a = [plan.arrival(rng_a) for _ in range(2000)]
    b = [plan.arrival(rng_b) for _ in range(2000)]
    assert a == b and first[0] == a[0]
    came = [t for t in a if t is not None]
    assert 0.005 < 1 - len(came) / len(a) < 0.05  # about 2 % never come
    assert all(0 <= t <= plan.registration for t in came)
    last_fifth = sum(1 for t in came if t >= 0.8 * plan.registration)
    assert last_fifth > 0.35 * len(came)  # the surge: far more than a fifth arrive in the last fifth


class _Season:
    close_in_force = 100.0
    samples = [(0.0, Counter({"awaiting_registration": 3})), (50.0, Counter({"awaiting_ddo_verification": 2}))]


def test_the_report_lists_every_eligible_employee_who_did_not_get_through(tmp_path):
    data = generate(100, seed=3, fault_share=0.3)
    wrong = next(e for e in data.employees if e.fault == "wrong_mobile")
    fine = next(e for e in data.employees if e.fault is None)
    late = [e for e in data.employees if e.fault is None][1]
    people = [
        Person(wrong, 10.0, first_failed_otp=10.0, working_otp=40.0, submitted=45.0),
        Person(fine, 5.0, working_otp=5.0, submitted=8.0),
        Person(late, 90.0, stuck="no working OTP before the deadline in force"),
    ]
    report = write_report(Plan.for_size(100, 3), people, _Season(), Counter({"order_issued": 2}), [], tmp_path)
    text = report.read_text()
    assert 'reached "submitted" before the deadline in force: 2 of 3 (66.7%)' in text
    assert f"- {late.master['employee_id']} (no fault): no working OTP before the deadline in force" in text
    assert "median 30" in text and (tmp_path / report.name.replace(".md", ".svg")).read_text().startswith("<svg")
