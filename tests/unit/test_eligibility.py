"""Eligibility rules at their edges; each result carries a reason in plain words."""

import re
from datetime import date
from typing import Any

import pytest

from contract import ServiceRecord
from services.applications.eligibility import Rule, continuous_since, evaluate

RULES = [
    Rule("covered_group", True, {"groups": ["part1", "part2", "hartron"]}, ""),
    Rule("five_years_continuous", True, {"as_on": "2024-08-15", "years": 5, "count": "inclusive"}, ""),
    Rule("sanctioned_post", True, {}, ""),
    Rule("contractual_pay_head", True, {"head_contains": "Contractual"}, ""),
    Rule("below_retirement_age", True, {"age": 58, "attains_on": "day_before_birthday"}, ""),
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


@pytest.mark.parametrize(
    "joined, passes", [("2019-08-15", True), ("2019-08-16", True), ("2019-08-17", False)], ids=["15", "16", "17"]
)
def test_five_years_as_on_15_august_2024_count_the_joining_day_and_the_15th(joined, passes):
    """Joined 16 Aug 2019: 16 Aug 2019 to 15 Aug 2024, both days counted, is five complete years."""
    r = result(record(service_periods=[{"from": joined, "to": None}]), "five_years_continuous")
    assert r.passed is passes, r.reason
    assert "counting the day you joined and 15 Aug 2024 itself" in r.reason
    if not passes:
        assert "16 Aug 2019 or earlier" in r.reason


def test_the_exclusive_count_is_a_change_of_data():
    rules = [Rule("five_years_continuous", True, {"as_on": "2024-08-15", "years": 5, "count": "exclusive"}, "")]
    [r] = evaluate(rules, record(service_periods=[{"from": "2019-08-16", "to": None}]), TODAY)
    assert not r.passed and "15 Aug 2019 or earlier" in r.reason


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


@pytest.mark.parametrize(
    "today, passes",
    [(date(2026, 1, 19), True), (date(2026, 1, 20), False), (date(2026, 1, 21), False)],
    ids=["two days before the birthday", "the day before: 58 attained", "the birthday"],
)
def test_58_is_attained_on_the_day_before_the_58th_birthday(today, passes):
    r = result(record(date_of_birth="1968-01-21"), "below_retirement_age", today)
    assert r.passed is passes, r.reason
    assert "20 Jan 2026" in r.reason and "the day before your 58th birthday" in r.reason


def test_born_on_29_february_attains_58_on_28_february_of_a_common_year():
    rec = record(date_of_birth="1968-02-29")
    assert result(rec, "below_retirement_age", date(2026, 2, 27)).passed
    assert not result(rec, "below_retirement_age", date(2026, 2, 28)).passed


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


@pytest.mark.parametrize(
    "born, attains, superannuation",
    [
        (date(1968, 1, 21), date(2026, 1, 20), date(2026, 1, 31)),
        (date(1968, 2, 1), date(2026, 1, 31), date(2026, 1, 31)),  # born on the 1st: the month before
        (date(1968, 2, 29), date(2026, 2, 28), date(2026, 2, 28)),
        (date(1966, 3, 1), date(2024, 2, 29), date(2024, 2, 29)),  # a leap year's February
        (date(1970, 1, 1), date(2027, 12, 31), date(2027, 12, 31)),  # across the year
        (date(1970, 12, 15), date(2028, 12, 14), date(2028, 12, 31)),
    ],
)
def test_the_order_is_secure_up_to_the_last_day_of_the_month_of_attaining_58(born, attains, superannuation):
    """One rule for the eligibility check and the order: both count the age from the contract's
    attains_age_on, and the order prints the superannuation date."""
    from contract import attains_age_on, superannuation_date
    from services.orders.order_document import secure_until

    assert attains_age_on(born, 58) == attains
    assert superannuation_date(born) == superannuation == secure_until(born)


def test_two_periods_starting_on_one_day_one_of_them_open_ended_are_one_run():
    """A record with a closed and an open period from the same day (a re-engagement entered twice) raised a
    TypeError in sorting (date, None) against (date, date): the whole eligibility check failed."""
    periods: list[dict[str, Any]] = [{"from": "2018-04-01", "to": None}, {"from": "2018-04-01", "to": "2019-03-31"}]
    assert continuous_since(periods, date(2024, 8, 15)) == (date(2018, 4, 1), [])
    assert continuous_since(list(reversed(periods)), date(2024, 8, 15)) == (date(2018, 4, 1), [])


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"employee_group": "private"},
        {"service_periods": []},
        {"service_periods": [{"from": "2020-01-01", "to": None}]},
        {"service_periods": [{"from": "2015-04-01", "to": "2019-12-31"}, {"from": "2020-02-01", "to": None}]},
        {"sanctioned_post": False},
        {"pay_head": "2202-General"},
        {"date_of_birth": "1960-01-01"},
    ],
)
def test_each_reason_comes_with_its_key_and_particulars_the_portal_says_in_hindi(changes):
    """A Hindi page could only show the English sentence: the reason now also travels as a key and its facts."""
    from services.portal.i18n import MESSAGES, rule_reason

    rules = [*RULES[:-1], Rule("nature_of_post", True, {"excluded_posts": ["DEO"]}, "")]
    for r in evaluate(rules, record(**changes), TODAY):
        assert r.key and f"elig.{r.key}" in MESSAGES, r
        hindi, native = rule_reason(r.__dict__, "hi")
        assert native and "{" not in hindi and not re.search(r"\d{4}-\d{2}-\d{2}", hindi), hindi
        english, _ = rule_reason(r.__dict__, "en")
        if r.key == "group_not_covered":  # the catalogue's sentence also names the group on the record
            assert english.startswith(r.reason.rstrip("."))
        else:
            assert english == r.reason  # the catalogue says what the service says
