"""The season simulator's plan and report, apart from the stack: the same seed draws the same season; arrivals
fall in the window with the surge before the deadline and a few who never come; every eligible employee who
came and did not submit in time is listed with the reason."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from bench.simulate import Person, Plan, Season, _compressed_calendar, write_report
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


def _season(plan: Plan) -> Season:
    season = Season(None, plan, None, None)  # type: ignore[arg-type]  (the report reads no stack)
    season.calendar = _compressed_calendar(plan, datetime(2026, 1, 1, tzinfo=UTC))
    season.close_in_force = 100.0
    season.samples = [(0.0, Counter({"awaiting_registration": 3})), (50.0, Counter({"awaiting_ddo_verification": 2}))]
    return season


def test_the_report_lists_every_eligible_employee_who_did_not_get_through(tmp_path):
    data = generate(100, seed=3, fault_share=0.3)
    wrong = next(e for e in data.employees if e.fault == "wrong_mobile")
    fine = next(e for e in data.employees if e.fault is None)
    late = [e for e in data.employees if e.fault is None][1]
    held, too_late = [e for e in data.employees if e.fault == "wrong_mobile"][1:3]
    plan = Plan.for_size(100, 3)  # a 120 s window: the grace after a correction is 7/37 of it, about 23 s
    people = [
        Person(wrong, 10.0, first_failed_otp=10.0, working_otp=40.0, submitted=45.0),
        Person(fine, 5.0, working_otp=5.0, submitted=8.0),
        Person(late, 90.0, stuck="no working OTP before the deadline in force"),
        # reported before the close (100 s), corrected at 110: in time up to about 133
        Person(held, 95.0, first_failed_otp=95.0, reported=95.0, corrected=110.0, working_otp=120, submitted=125.0),
        # reported after the close: nothing is held open
        Person(too_late, 101.0, first_failed_otp=101.0, reported=101.0, corrected=110.0, submitted=115.0),
    ]
    season = _season(plan)
    # the audit against the registry alone: one right, one wrong; after the SMS answers: the three who failed
    season.flagged_by_registry = {wrong.master["employee_id"], fine.master["employee_id"]}
    season.flagged_after_ask = {e.master["employee_id"] for e in (wrong, held)}
    season.flagged = {e.master["employee_id"] for e in (wrong, held, too_late)}
    season.asked, season.answered, season.reminded, season.answered_reminder = 5, 3, 2, 1
    report = write_report(plan, people, season, Counter({"order_issued": 2}), [], tmp_path)
    text = report.read_text()
    # 3 on record failed to get an OTP (wrong, held, too_late)
    registry_alone, with_answers = text.split("Against the registry alone: ")[1].split("After asking")
    with_answers, after_reminder = with_answers.split("After the reminder")
    assert "of 3 employees on record who came and failed to get an OTP, it had flagged 1 (**recall 33.3%**" in (
        registry_alone
    )
    assert "of 2 it flagged who came, 1 did fail (**precision 50.0%**" in registry_alone
    assert "(5 asked, 3 answered; assumed: 80% of employees who will come answer" in with_answers
    assert "it had flagged 2 (**recall 66.7%**" in with_answers
    assert "(2 reminded, 1 answered; assumed: 50% of the silent employees" in after_reminder
    assert "it had flagged 3 (**recall 100.0%**" in after_reminder and "(**precision 100.0%**" in after_reminder
    assert 'reached "submitted" before the deadline in force: 3 of 5 (60.0%).** Of them, 1 applied after' in text
    assert f"- {too_late.master['employee_id']} (wrong_mobile): submitted after the deadline" in text
    assert f"- {late.master['employee_id']} (no fault): no working OTP before the deadline in force" in text
    assert "median 28" in text and (tmp_path / report.name.replace(".md", ".svg")).read_text().startswith("<svg")
