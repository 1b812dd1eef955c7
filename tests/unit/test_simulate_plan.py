"""The season simulator's plan and report, apart from the stack: the same seed draws the same season; arrivals
fall in the window with the surge before the deadline and a few who never come; every eligible employee who
came and did not submit in time is listed with the reason."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from bench.season_judge import Answer, AuditCell, Published, PublishedCalendar
from bench.simulate import Call, Person, Plan, Season, _compressed_calendar, write_report
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


def test_the_plan_keeps_the_real_calendars_proportions_at_any_speed():
    from contract import DDO_VERIFICATION, ORDER_ISSUE, POST_CREATION
    from services.applications.calendar import OFFICIAL_2025_26

    for day in (4.0, 20.0):
        plan = Plan.for_size(100, 1, day=day)
        compressed = _compressed_calendar(plan, datetime(2026, 1, 1, tzinfo=UTC))
        real, ours = OFFICIAL_2025_26, compressed
        for step in (DDO_VERIFICATION, POST_CREATION, ORDER_ISSUE):
            real_days = (real.deadline(step) - real.registration_open).total_seconds() / 86400
            ours_days = (ours.deadline(step) - ours.registration_open).total_seconds() / day
            assert abs(real_days - ours_days) < 1.0, step  # within a day (the real dates end at midnight IST)
        assert ours.escalation_days * 86400 == 7 * day and ours.remedy_grace_days * 86400 == 7 * day
        assert plan.clock_scale == 86400 / day


def _season(plan: Plan) -> Season:
    season = Season(None, plan, None, None)  # type: ignore[arg-type]  (the report reads no stack)
    season.calendar = _compressed_calendar(plan, datetime(2026, 1, 1, tzinfo=UTC))
    # the public calendar as read: registration closed at 100, extended at 50 to 140; DDO at 200, a grace of 10
    season.published = PublishedCalendar([Published(0, 100, 200, 10), Published(50, 140, 200, 10)])
    season.samples = [(0.0, Counter({"awaiting_registration": 3})), (50.0, Counter({"awaiting_ddo_verification": 2}))]
    season.calls = [Call(1.0, "otp", 202, 0.1), Call(61.0, "otp", 503, 2.0), Call(62.0, "otp", 202, 0.3)]
    season.load = [(0.0, 1.5), (2.0, 2.5)]
    season.asked, season.answered, season.reminded, season.answered_reminder = 5, 3, 2, 1
    season.audit_registry = AuditCell(0, 0, 1 / 3, 0.5, 1, 3, 2)
    season.audit_cells = [AuditCell(0.2, 0.0, 2 / 3, 1.0, 2, 3, 2), AuditCell(0.9, 0.1, 1.0, 0.75, 3, 3, 4)]
    season.short = [
        {"workflow_id": "w1", "employee_id": "EMP0000009", "stage": "hod_approval_overdue", "reason": "escalated"},
        {"workflow_id": "w2", "employee_id": "EMP0000010", "stage": "lapsed_unregistered", "reason": "closed"},
    ]
    return season


def test_the_report_judges_on_the_systems_answers_and_lists_every_employee_left_behind(tmp_path):
    data = generate(100, seed=3, fault_share=0.3)
    wrong = next(e for e in data.employees if e.fault == "wrong_mobile")
    fine, late, let_in = [e for e in data.employees if e.fault is None][:3]
    held, too_late = [e for e in data.employees if e.fault == "wrong_mobile"][1:3]
    plan = Plan.for_size(100, 3)
    people = [
        Person(wrong, 10.0, first_failed_otp=10.0, working_otp=40.0, answers=[Answer(45, 45.1, 201, "", 45.0)]),
        Person(fine, 5.0, working_otp=5.0, answers=[Answer(8, 8.1, 201, "", 8.0)]),
        Person(late, 90.0, stuck="no working OTP before the deadline in force"),
        # reported before the close, corrected at 150: in time up to 160
        Person(
            held,
            95.0,
            first_failed_otp=95.0,
            reported=95.0,
            corrected=150.0,
            working_otp=150,
            answers=[Answer(155, 155.1, 201, "", 155.0)],
        ),
        # reported after the close: nothing is held open, and the system refused rightly
        Person(
            too_late,
            141.0,
            first_failed_otp=141.0,
            reported=141.0,
            corrected=150.0,
            answers=[Answer(152, 152.1, 422, "registration_closed")],
        ),
        # planted: the system took this one at 145, after the extended close, with no hold
        Person(let_in, 120.0, working_otp=120.0, answers=[Answer(145, 145.1, 201, "", 145.0)]),
    ]
    people[-1].told_to_wait["otp_resend_too_soon"] = 2
    season = _season(plan)
    report = write_report(plan, people, season, Counter({"order_issued": 2}), [], tmp_path)
    text = report.read_text()
    assert 'reached "submitted" in time: 3 of 6 (50.0%).**' in text
    assert "1 of them were taken after the published close, their registration held open" in text
    assert f"**Let in after their deadline: 1** ({let_in.master['employee_id']})" in text
    assert "**Refused as closed before their deadline: 0**" in text
    assert f"- {late.master['employee_id']} (no fault): no working OTP before the deadline in force" in text
    assert f"- {let_in.master['employee_id']} (no fault): taken at 145 s, after the deadline in force (140 s)" in text
    assert "otp_resend_too_soon 2" in text
    assert "| (no SMS asked: the registry alone) | - | 33.3% (1/3) | 50.0% (1/2) |" in text
    assert "| 90% | 10% | 100.0% (3/3) | 75.0% (3/4) |" in text
    assert "**Every case short of an order: 2**" in text and "EMP0000009 hod_approval_overdue: escalated" in text
    assert "1 got no answer or a 5xx" in text
    assert (tmp_path / report.name.replace(".md", "-short-of-order.csv")).read_text().count("\n") == 3
    assert "median 42" in text and (tmp_path / report.name.replace(".md", ".svg")).read_text().startswith("<svg")
