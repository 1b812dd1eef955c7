"""Eligibility rules at their edges; each result carries a reason in plain words."""

from datetime import date

import pytest

from contract import ServiceRecord
from services.applications.eligibility import Rule, continuous_since, evaluate

RULES = [
    Rule("covered_group", True, {"groups": ["part1", "part2", "hartron"]}, ""),
    Rule("five_years_continuous", True, {"as_on": "2024-08-15", "years": 5}, ""),
    Rule("sanctioned_post", True, {}, ""),
    Rule("contractual_pay_head", True, {"head_contains": "Contractual"}, ""),
    Rule("below_retirement_age", True, {"age": 58}, ""),
    Rule("nature_of_post", False, {"excluded_posts": ["DEO"]}, ""),
]
TODAY = date(2026, 1, 20)


def record(**changes) -> ServiceRecord:
    base = dict(
        employee_id="E1",
        employee_group="part1",
        date_of_birth="1980-05-01",
        date_of_joining="2015-04-01",
        service_periods=[{"from": "2015-04-01", "to": None}],
        sanctioned_post=True,
        pay_head="2202-01-101-99-51-Contractual Services",
        post_code="DEO",
        status="active",
    )
    return ServiceRecord(**{**base, **changes})


def result(rec: ServiceRecord, code: str, today: date = TODAY):
    return next(r for r in evaluate(RULES, rec, today) if r.code == code)


def test_an_ordinary_record_passes_every_enabled_rule_and_disabled_rules_are_not_applied():
    results = evaluate(RULES, record(), TODAY)
    assert [r.code for r in results] == [
        "covered_group",
        "five_years_continuous",
        "sanctioned_post",
        "contractual_pay_head",
        "below_retirement_age",
    ]
    assert all(r.passed and r.reason for r in results)


def test_exactly_five_years_on_15_august_2024_is_enough_and_one_day_less_is_not():
    exact = result(record(service_periods=[{"from": "2019-08-15", "to": None}]), "five_years_continuous")
    assert exact.passed and "15 Aug 2019" in exact.reason
    short = result(record(service_periods=[{"from": "2019-08-16", "to": None}]), "five_years_continuous")
    assert not short.passed and "16 Aug 2019" in short.reason and "15 Aug 2019 or earlier" in short.reason


def test_a_one_day_gap_breaks_continuity_and_says_where():
    periods = [{"from": "2012-01-01", "to": "2021-06-30"}, {"from": "2021-07-02", "to": None}]
    r = result(record(service_periods=periods), "five_years_continuous")
    assert not r.passed and "a gap in service on 1 Jul 2021" in r.reason and "2 Jul 2021" in r.reason
    joined = [{"from": "2012-01-01", "to": "2021-06-30"}, {"from": "2021-07-01", "to": None}]
    assert result(record(service_periods=joined), "five_years_continuous").passed


def test_service_that_ended_before_the_cut_off_does_not_count():
    start, _ = continuous_since([{"from": "2010-01-01", "to": "2024-08-14"}], date(2024, 8, 15))
    assert start is None
    assert not result(
        record(service_periods=[{"from": "2010-01-01", "to": "2024-08-14"}]), "five_years_continuous"
    ).passed


def test_the_day_before_the_58th_birthday_is_below_58_and_the_birthday_is_not():
    rec = record(date_of_birth="1968-01-21")
    assert result(rec, "below_retirement_age", date(2026, 1, 20)).passed
    on_birthday = result(rec, "below_retirement_age", date(2026, 1, 21))
    assert not on_birthday.passed and "21 Jan 2026" in on_birthday.reason


@pytest.mark.parametrize(
    "change, code",
    [
        ({"employee_group": "private"}, "covered_group"),
        ({"sanctioned_post": False}, "sanctioned_post"),
        ({"pay_head": "2202-01-101-99-01-Salaries"}, "contractual_pay_head"),
    ],
)
def test_each_other_rule_fails_with_its_reason(change, code):
    r = result(record(**change), code)
    assert not r.passed and len(r.reason) > 20


def test_one_birthday_rule_for_the_eligibility_check_and_the_order():
    """Born on 29 February: the 58th birthday in a common year is 1 March, for the age rule and for the
    order's "secure until" alike (the rule was written twice before; now both call the contract's)."""
    from datetime import date

    from contract import birthday_at
    from services.orders.order_document import fifty_eighth_birthday

    assert birthday_at(date(1968, 2, 29), 58) == date(2026, 3, 1)
    assert birthday_at(date(1968, 2, 29), 56) == date(2024, 2, 29)  # a leap year keeps the day
    assert birthday_at(date(1970, 6, 15), 58) == date(2028, 6, 15)
    assert fifty_eighth_birthday(date(1968, 2, 29)) == birthday_at(date(1968, 2, 29), 58)
