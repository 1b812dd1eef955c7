"""`seva audit master-data`: the whole pre-season audit, for operations before the portal opens. It runs the OTP
service's record checks (services/otp/preseason.py, the same the data officers and DDOs see at
GET /master/audit) and adds those that need the applications service's data: each record's department,
district, post and DDO in the drop-down lists, the five-years rule as the eligibility check will apply it, and
the retirement age reached before the season's last deadline. An ops tool reading both schemas, like `seva
dlq`; it changes nothing. Output: a summary and the findings per data owner, per district and per DDO."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg

from contract import IST, RETIREMENT_AGE, ServiceRecord, attains_age_on
from services.applications.calendar import calendar_in_force
from services.applications.eligibility import Rule, evaluate
from services.otp.confirmation import ask_in
from services.otp.preseason import BLOCKS_OTP, Finding, audit


async def cross_checks(conn: asyncpg.Connection, season_id: str) -> list[Finding]:
    lists = {
        "department_code": {r[0] for r in await conn.fetch("SELECT code FROM applications.department")},
        "district": {r[0] for r in await conn.fetch("SELECT name FROM applications.district")},
        "post_code": {r[0] for r in await conn.fetch("SELECT code FROM applications.post")},
        "ddo_code": {r[0] for r in await conn.fetch("SELECT ddo_code FROM applications.ddo")},
    }
    rules = [
        Rule(r["code"], r["enabled"], r["params"], r["description"])
        for r in await conn.fetch(
            "SELECT code, enabled, params, description FROM applications.eligibility_rule "
            "WHERE code = 'five_years_continuous' AND enabled"
        )
    ]
    try:
        calendar = await calendar_in_force(conn, season_id)
        last_day: date | None = calendar.order_issue.date()
    except LookupError:
        last_day = None
    found: list[Finding] = []
    for m in await conn.fetch("SELECT * FROM otp.employee_master WHERE status = 'active' ORDER BY employee_id"):

        def add(code: str, who: str, detail: str, remedy: str, m: Any = m) -> None:
            found.append(
                Finding(m["employee_id"], m["data_owner"], m["district"], m["ddo_code"], code, who, detail, remedy)
            )

        for column, known in lists.items():
            if m[column] not in known:
                add(
                    f"{column.removesuffix('_code')}_not_in_drop_down",
                    "administrator",
                    f"{column} {m[column]!r} is not in the drop-down list",
                    "Add it to the drop-down list (POST /master/...), or correct the record if it is wrong.",
                )
        record = ServiceRecord(
            employee_id=m["employee_id"],
            employee_group=m["employee_group"],
            date_of_birth=m["date_of_birth"].isoformat(),
            date_of_joining=m["date_of_joining"].isoformat(),
            service_periods=m["service_periods"],
            sanctioned_post=m["sanctioned_post"],
            pay_head=m["pay_head"],
            post_code=m["post_code"],
            status=m["status"],
        )
        for result in evaluate(rules, record, datetime.now(IST).date()):
            if not result.passed:
                add(
                    "five_years_rule_fails",
                    "DDO",
                    result.reason,
                    "The DDO checks the service periods on record "
                    "(a gap, or the joining date); the data owner corrects a wrong record.",
                )
        if last_day is not None:
            attained = attains_age_on(m["date_of_birth"], RETIREMENT_AGE)
            if attained <= last_day:
                add(
                    "attains_58_by_season_end",
                    "DDO",
                    f"attains {RETIREMENT_AGE} on {attained:%d %b %Y}, on or before the season's last deadline",
                    "Take this case first: the order must be issued before the retirement age is attained.",
                )
    return found


async def record_findings(conn: asyncpg.Connection) -> list[Finding]:
    """The OTP service's record checks alone, as the data officers and DDOs see them (GET /master/audit), on the
    caller's connection: the simulator runs them inside a transaction it rolls back, to weigh answer rates."""
    return await audit(conn)


def keeps_from_otp(finding: Finding) -> bool:
    """Whether the finding, left alone, keeps its employee from receiving an OTP."""
    return finding.code in BLOCKS_OTP


async def ask_whose_number(
    database_url: str,
    portal_url: str,
    data_owner: str | None = None,
    ddo: str | None = None,
    remind_after_hours: float | None = None,
) -> int:
    """`seva audit confirm-mobiles`: ask by SMS whether the number on each active record is its employee's (or,
    with `remind_after_hours`, ask again where no answer came). Returns how many were asked."""
    return await ask_in(database_url, portal_url, data_owner, ddo, remind_after_hours)


async def run(database_url: str, season_id: str) -> list[Finding]:
    from services.common.db import create_pool

    pool = await create_pool(database_url)
    try:
        async with pool.acquire() as conn:
            found = await audit(conn) + await cross_checks(conn, season_id)
    finally:
        await pool.close()
    return sorted(found, key=lambda f: (f.employee_id, f.code))


def write_report(found: list[Finding], records: int, out: Path) -> Path:
    """summary.md, all-findings.csv, and one CSV per data owner, per district and per DDO."""
    out.mkdir(parents=True, exist_ok=True)
    columns = [f.name for f in fields(Finding)]

    def write_csv(path: Path, rows: list[Finding]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=columns)
            w.writeheader()
            w.writerows(f.as_dict() for f in rows)

    write_csv(out / "all-findings.csv", found)
    for key, folder in (("data_owner", "by-data-owner"), ("district", "by-district"), ("ddo_code", "by-ddo")):
        groups: dict[str, list[Finding]] = {}
        for f in found:
            groups.setdefault(getattr(f, key), []).append(f)
        for name, rows in groups.items():
            write_csv(out / folder / f"{name}.csv", rows)
    flagged = {f.employee_id for f in found}
    no_otp = {f.employee_id for f in found if f.code in BLOCKS_OTP}
    lines = [
        "# Pre-season audit of the master data",
        "",
        f"{records:,} records; {len(flagged):,} with at least one finding; {len(no_otp):,} that would get no OTP.",
        "",
        "| cause | who acts | records |",
        "|---|---|---|",
    ]
    who = {f.code: f.who_acts for f in found}
    lines += [f"| {code} | {who[code]} | {n:,} |" for code, n in Counter(f.code for f in found).most_common()]
    lines += ["", "| data owner | records with findings |", "|---|---|"]
    by_owner = Counter(f.data_owner for f in {f.employee_id: f for f in found}.values())
    lines += [f"| {owner} | {n:,} |" for owner, n in sorted(by_owner.items())]
    lines += ["", "Lists: `by-data-owner/`, `by-district/`, `by-ddo/` (CSV), all in `all-findings.csv`."]
    summary = out / "summary.md"
    summary.write_text("\n".join(lines) + "\n")
    return summary
