"""Eligibility, explained: each rule (its parameters are data in applications.eligibility_rule) gives
pass or fail and the reason in plain words. The decision is the list, not a bare yes or no."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from contract import RuleResult, ServiceRecord, attains_age_on


@dataclass
class Rule:
    code: str
    enabled: bool
    params: dict[str, Any]
    description: str


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 Feb in a year that has none
        return day.replace(year=day.year - years, day=28)


def _fmt(d: date) -> str:
    return d.strftime("%d %b %Y").lstrip("0")


def continuous_since(periods: list[dict[str, Any]], as_on: date) -> tuple[date | None, list[tuple[date, date]]]:
    """The start of the unbroken run of service that covers `as_on`, and the gaps before it.
    A period's `to` is its last working day (None: still serving); the next must start the day after."""
    # Ordered by start, an open-ended period (None: still serving) last among those of the same start: two
    # periods starting on one day, one of them open, compared (date, None) with (date, date) and raised.
    spans = sorted(
        ((date.fromisoformat(p["from"]), date.fromisoformat(p["to"]) if p.get("to") else None) for p in periods),
        key=lambda span: (span[0], span[1] is None, span[1] or span[0]),
    )
    gaps: list[tuple[date, date]] = []
    start: date | None = None
    end: date | None = None  # None while the current run is still open
    for frm, to in spans:
        if frm > as_on:
            break
        if start is None:
            start, end = frm, to
        elif end is None:
            continue
        elif frm > end + timedelta(days=1):
            gaps.append((end + timedelta(days=1), frm - timedelta(days=1)))
            start, end = frm, to
        else:
            end = None if to is None else max(end, to)
    if start is None or (end is not None and end < as_on):
        return None, gaps
    return start, gaps


@dataclass(frozen=True)
class Said:
    """What a rule says: pass or fail, the sentence in English, and the same as a key with its particulars."""

    passed: bool
    reason: str
    key: str
    facts: dict[str, str] = field(default_factory=dict)


def _covered_group(record: ServiceRecord, params: dict[str, Any], today: date) -> Said:
    names = {"part1": "Part-1 (HKRN)", "part2": "Part-2 (Treasury & Accounts)", "hartron": "HARTRON"}
    group = record.employee_group
    if group in params.get("groups", []):
        return Said(
            True, f"You are covered as a {names.get(group, group)} employee.", "group_covered", {"group": group}
        )
    return Said(
        False,
        "Only employees engaged through HKRN (Part-1), Outsourcing Policy Part-2 or HARTRON are covered.",
        "group_not_covered",
        {"group": group},
    )


def _five_years(record: ServiceRecord, params: dict[str, Any], today: date) -> Said:
    """Five years of continuous service "as on 15 August 2024". By default both the joining day and the 15th
    itself count (`count: inclusive`), so service from 16 Aug 2019 makes five complete years; `exclusive`
    would need service from the 15th."""
    as_on = date.fromisoformat(params.get("as_on", "2024-08-15"))
    years = int(params.get("years", 5))
    inclusive = params.get("count", "inclusive") == "inclusive"
    needed_from = _years_before(as_on, years) + (timedelta(days=1) if inclusive else timedelta(0))
    counting = f" (counting the day you joined and {_fmt(as_on)} itself)" if inclusive else ""
    start, gaps = continuous_since(record.service_periods, as_on)
    gap_text = "; ".join(
        f"a gap in service from {_fmt(a)} to {_fmt(b)}" if a != b else f"a gap in service on {_fmt(a)}" for a, b in gaps
    )
    facts = {
        "years": str(years),
        "as_on": as_on.isoformat(),
        "needed_from": needed_from.isoformat(),
        "counting": "inclusive" if inclusive else "exclusive",
    }
    if start is None:
        return Said(False, f"Your service record shows no service on {_fmt(as_on)}.", "no_service_on", facts)
    facts["start"] = start.isoformat()
    if start <= needed_from:
        return Said(
            True,
            f"You have continuous service since {_fmt(start)}: at least {years} years as on {_fmt(as_on)}{counting}.",
            "five_years_met",
            facts,
        )
    reason = (
        f"You need {years} years of continuous service as on {_fmt(as_on)}{counting}: service from "
        f"{_fmt(needed_from)} or earlier; your continuous service starts on {_fmt(start)}."
    )
    if gaps:
        reason += f" Continuity is broken by {gap_text}."
        facts["gaps"] = ";".join(f"{a.isoformat()}/{b.isoformat()}" for a, b in gaps)
    return Said(False, reason, "five_years_short", facts)


def _sanctioned(record: ServiceRecord, params: dict[str, Any], today: date) -> Said:
    if record.sanctioned_post:
        return Said(True, "You are engaged against a sanctioned post.", "sanctioned")
    return Said(False, "Your record shows you are not engaged against a sanctioned post.", "not_sanctioned")


def _pay_head(record: ServiceRecord, params: dict[str, Any], today: date) -> Said:
    mark = params.get("head_contains", "Contractual")
    if mark.lower() in record.pay_head.lower():
        return Said(
            True, "Your pay is drawn from the contractual budget head.", "pay_head_right", {"head": record.pay_head}
        )
    return Said(
        False,
        f"Your pay is drawn from head {record.pay_head}, not the contractual head. Your DDO can certify the correct head.",
        "pay_head_wrong",
        {"head": record.pay_head},
    )


def _below_age(record: ServiceRecord, params: dict[str, Any], today: date) -> Said:
    """Below the retirement age on the day of the decision, the age counted as the law counts it (by default
    attained on the day before the birthday; the convention is the rule's `attains_on` parameter)."""
    age = int(params.get("age", 58))
    convention = params.get("attains_on", "day_before_birthday")
    born = date.fromisoformat(record.date_of_birth)
    attained = attains_age_on(born, age, convention)
    how = (
        f" (the day before your {age}th birthday, as the law counts age)" if convention == "day_before_birthday" else ""
    )
    facts = {"age": str(age), "attained": attained.isoformat(), "counted": convention}
    if today < attained:
        return Said(True, f"You are below {age}: you attain {age} on {_fmt(attained)}{how}.", "below_age", facts)
    return Said(False, f"You attained {age}, the retirement age, on {_fmt(attained)}{how}.", "age_attained", facts)


def _nature_of_post(record: ServiceRecord, params: dict[str, Any], today: date) -> Said:
    excluded = params.get("excluded_posts", [])
    if record.post_code in excluded:
        return Said(
            False,
            f"The post {record.post_code} is not covered by the policy.",
            "post_excluded",
            {"post": record.post_code},
        )
    return Said(True, "The nature of your post is covered.", "post_covered", {"post": record.post_code})


EVALUATORS: dict[str, Callable[[ServiceRecord, dict[str, Any], date], Said]] = {
    "covered_group": _covered_group,
    "five_years_continuous": _five_years,
    "sanctioned_post": _sanctioned,
    "contractual_pay_head": _pay_head,
    "below_retirement_age": _below_age,
    "nature_of_post": _nature_of_post,
}


def evaluate(rules: list[Rule], record: ServiceRecord, today: date) -> list[RuleResult]:
    results = []
    for rule in rules:
        if not rule.enabled:
            continue
        said = EVALUATORS[rule.code](record, rule.params, today)
        results.append(RuleResult(rule.code, said.passed, said.reason, said.key, dict(said.facts)))
    return results
