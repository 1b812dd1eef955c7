"""The pre-season audit of the master records this service holds: before the portal opens, find every record
that would keep its employee from an OTP or from a clean application, with a stable cause code, who must act
and what they do. One query per check over otp.employee_master and the Family ID registry; the checks that
need another service's data (drop-down lists, the eligibility rules, the season's dates) are added by
`seva audit master-data` (ops/preseason_audit.py), which runs these too."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import asyncpg

from services.common.auth import Principal
from services.common.runtime import OtpContext

from .mobile import mask_mobile

OWNER_NAMES = {"HKRN": "HKRN", "TREASURY": "Treasury & Accounts", "HARTRON": "HARTRON"}
# Causes that keep an employee from getting an OTP at all (the rest spoil the application or the order).
BLOCKS_OTP = {
    "record_inactive",
    "mobile_differs_from_family_id",
    "mobile_not_mine",
    "mobile_unconfirmed",
    "mobile_shared",
}


@dataclass
class Finding:
    employee_id: str
    data_owner: str
    district: str
    ddo_code: str
    code: str
    who_acts: str  # "data owner", "DDO", "employee", "administrator"
    detail: str  # masked: never a full mobile number
    remedy: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


# (code, who acts, SQL condition on m = employee_master, p = ppp_registry and c = the pre-season question about the
# number now on record (services/otp/confirmation.py), detail, remedy). The employee's own answer outweighs the
# registry, which some families gave no mobile and some another member's.
CHECKS: list[tuple[str, str, str, str, str]] = [
    (
        "record_inactive",
        "data owner",
        "m.status <> 'active'",
        "the record is marked inactive",
        "Confirm the employee's service with the DDO and reactivate the record.",
    ),
    (
        "mobile_differs_from_family_id",
        "data owner",
        "p.mobile IS NOT NULL AND p.mobile <> m.mobile AND c.answer IS DISTINCT FROM 'mine'",
        "the mobile on record differs from the Family ID's",
        "Confirm the employee's current number (the DDO knows it) and correct the record before the season opens.",
    ),
    (
        "mobile_not_mine",
        "DDO",
        "c.answer = 'not_mine'",
        "asked before the season, the holder of the number on record said it is not the employee's",
        "Ask the employee for their own number; the data owner corrects the record before the season opens.",
    ),
    (
        "mobile_unconfirmed",
        "DDO",
        "c.confirmation_id IS NOT NULL AND c.answer IS NULL AND p.mobile IS NULL",
        "asked before the season, nobody confirmed the number on record, and the Family ID has no mobile to compare",
        "Confirm the number with the employee (a call, or at the office); if it is wrong the data owner corrects it.",
    ),
    (
        "family_id_mobile_outdated",
        "employee",
        "p.mobile IS NOT NULL AND p.mobile <> m.mobile AND c.answer = 'mine'",
        "the employee confirmed the number on record; the Family ID has another",
        "Nothing blocks the OTP. The employee may update the Family ID's number at a PPP centre.",
    ),
    (
        "family_id_not_in_registry",
        "data owner",
        "p.family_id IS NULL",
        "the Family ID on record is not in the Family ID registry",
        "Correct the Family ID on the record; without it the employee cannot use 'Why no OTP?'.",
    ),
    (
        "name_differs_from_family_id",
        "data owner",
        "p.family_id IS NOT NULL AND p.name <> m.name",
        "the name differs from the Family ID's",
        "Correct the record, or ask the employee to correct the Family ID at a PPP centre.",
    ),
    (
        "father_name_differs_from_family_id",
        "data owner",
        "p.family_id IS NOT NULL AND p.father_name <> m.father_name",
        "the father's name differs from the Family ID's",
        "Correct the record, or ask the employee to correct the Family ID at a PPP centre.",
    ),
    (
        "date_of_birth_differs_from_family_id",
        "data owner",
        "p.family_id IS NOT NULL AND p.date_of_birth <> m.date_of_birth",
        "the date of birth differs from the Family ID's",
        "Correct the record, or ask the employee to correct the Family ID at a PPP centre.",
    ),
    (
        "pay_head_not_contractual",
        "DDO",
        "m.pay_head NOT ILIKE '%Contractual%'",
        "the pay head is not the contractual head",
        "The DDO certifies the correct contractual head (a verification certificate); the data owner corrects it.",
    ),
    (
        "not_sanctioned_post",
        "DDO",
        "NOT m.sanctioned_post",
        "the record shows no sanctioned post",
        "The DDO confirms whether the engagement is against a sanctioned post; the data owner corrects the record.",
    ),
]


async def audit(conn: asyncpg.Connection, data_owner: str | None = None, ddo_code: str | None = None) -> list[Finding]:
    """Every finding on the records in scope (a data owner's, a DDO's, or all), sorted by employee."""
    scope = "($1::text IS NULL OR m.data_owner = $1) AND ($2::text IS NULL OR m.ddo_code = $2)"
    found: list[Finding] = []
    for code, who, condition, detail, remedy in CHECKS:
        rows = await conn.fetch(
            "SELECT m.employee_id, m.data_owner, m.district, m.ddo_code FROM otp.employee_master m "
            "LEFT JOIN otp.ppp_registry p ON p.family_id = m.family_id "
            "LEFT JOIN otp.mobile_confirmation c ON c.employee_id = m.employee_id AND c.mobile = m.mobile "
            f"WHERE {scope} AND {condition}",
            data_owner,
            ddo_code,
        )
        found += [
            Finding(r["employee_id"], r["data_owner"], r["district"], r["ddo_code"], code, who, detail, remedy)
            for r in rows
        ]
    # One mobile on two records: only the first would ever get the OTP (the OTP service sends to one record).
    shared = await conn.fetch(
        "SELECT m.employee_id, m.data_owner, m.district, m.ddo_code, m.mobile, "
        "count(*) OVER (PARTITION BY m.mobile) AS holders FROM otp.employee_master m "
        f"WHERE m.mobile IN (SELECT mobile FROM otp.employee_master GROUP BY mobile HAVING count(*) > 1) AND {scope}",
        data_owner,
        ddo_code,
    )
    found += [
        Finding(
            r["employee_id"],
            r["data_owner"],
            r["district"],
            r["ddo_code"],
            "mobile_shared",
            "data owner",
            f"the mobile {mask_mobile(r['mobile'])} is on {r['holders']} records",
            "Find each employee's own number (the DDOs know them) and correct the records: an OTP reaches one only.",
        )
        for r in shared
    ]
    return sorted(found, key=lambda f: (f.employee_id, f.code))


async def audit_in_scope(ctx: OtpContext, officer: Principal) -> list[Finding]:
    """A data officer sees their organisation's records; a DDO, their own employees'."""
    async with ctx.pool.acquire() as conn:
        if officer.role == "ddo":
            return await audit(conn, ddo_code=officer.scope.get("ddo_code") or "-")
        return await audit(conn, data_owner=officer.scope.get("data_owner") or "-")
