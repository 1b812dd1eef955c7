"""Master records belong to their data owners (HKRN for Part-1, Treasury for Part-2, HARTRON). Owners
push corrections through the API or as Kafka events; every change is kept with who, when and why. A
record that kept an employee from registering is corrected only under a verification certificate."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg

from services.common import audit
from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.events import publish

from .mobile import normalise_mobile
from .sms import request_sms

CORRECTABLE = {
    "mobile",
    "name",
    "father_name",
    "date_of_birth",
    "pay_head",
    "status",
    "sanctioned_post",
    "department_code",
    "district",
    "post_code",
    "ddo_code",
}
NEEDS_CERTIFICATE = {"mobile", "pay_head", "status", "name", "father_name", "date_of_birth"}


def _clean(field: str, value: Any) -> Any:
    if field == "mobile":
        return normalise_mobile(str(value))
    if field == "date_of_birth":
        try:
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            raise ApiError(422, "invalid_date", "date_of_birth must be a date like 1985-07-14.") from None
    if field == "status" and value not in ("active", "inactive"):
        raise ApiError(422, "invalid_status", "status must be active or inactive.")
    if field == "sanctioned_post":
        return bool(value)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, "invalid_value", f"{field} must be a non-empty text.")
    return value.strip()


async def apply_correction(
    conn: asyncpg.Connection,
    employee_id: str,
    changes: dict,
    *,
    changed_by: str,
    data_owner: str,
    source: str,
    reason: str,
    certificate_id: str | None,
    from_addr: str | None = None,
) -> dict:
    """Apply one owner's correction in the caller's transaction; returns the fields that changed."""
    unknown = set(changes) - CORRECTABLE
    if unknown or not changes:
        raise ApiError(
            422, "invalid_fields", "Only these fields can be corrected: " + ", ".join(sorted(CORRECTABLE)) + "."
        )
    if not reason.strip():
        raise ApiError(422, "reason_required", "Every correction must say why it is made.")
    record = await conn.fetchrow("SELECT * FROM otp.employee_master WHERE employee_id = $1 FOR UPDATE", employee_id)
    if record is None or record["data_owner"] != data_owner:
        raise ApiError(404, "record_not_found", f"There is no record {employee_id} held by {data_owner}.")
    cleaned = {f: _clean(f, v) for f, v in changes.items()}
    changed = {f: v for f, v in cleaned.items() if record[f] != v}
    request = None
    if set(changed) & NEEDS_CERTIFICATE:
        request = await conn.fetchrow(
            "SELECT certificate_id FROM otp.correction_request WHERE employee_id = $1 AND corrected_at IS NULL "
            "AND ($2::uuid IS NULL OR certificate_id = $2::uuid) ORDER BY requested_at DESC LIMIT 1",
            employee_id,
            uuid.UUID(certificate_id) if certificate_id else None,
        )
        if request is None:
            raise ApiError(
                409,
                "certificate_required",
                "This correction needs a verification certificate from the employee's DDO, HoD or "
                "Administrative Secretary; none is open for this employee.",
            )
    if "mobile" in changed and await conn.fetchval(
        "SELECT 1 FROM otp.employee_master WHERE mobile = $1 AND employee_id <> $2", changed["mobile"], employee_id
    ):
        raise ApiError(409, "mobile_in_use", "That mobile number is already on another employee's record.")
    if not changed:
        return {}
    cert = request["certificate_id"] if request else None
    for field, value in changed.items():
        await conn.execute(
            "INSERT INTO otp.master_change (employee_id, field, old_value, new_value, changed_by, data_owner, source, "
            "reason, certificate_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            employee_id,
            field,
            str(record[field]),
            str(value),
            changed_by,
            data_owner,
            source,
            reason,
            cert,
        )
    sets = ", ".join(f"{f} = ${i}" for i, f in enumerate(changed, start=2))
    await conn.execute(
        f"UPDATE otp.employee_master SET {sets}, updated_at = now() WHERE employee_id = $1",
        employee_id,
        *changed.values(),
    )
    if cert is not None:
        await conn.execute("UPDATE otp.correction_request SET corrected_at = now() WHERE certificate_id = $1", cert)
    await audit.append(
        conn,
        "otp",
        Principal(changed_by, "data_officer", {"data_owner": data_owner}),
        "master.correct",
        employee_id,
        from_addr=from_addr or source,
        before=None,
        after=None,
        details={"fields": sorted(changed), "certificate_id": str(cert) if cert else None},
    )
    await publish(
        conn,
        "otp",
        "master.corrected",
        employee_id,
        {
            "fields": sorted(changed),
            "data_owner": data_owner,
            "changed_by": changed_by,
            "source": source,
            "certificate_id": str(cert) if cert else None,
        },
    )
    if (
        cert is not None
        and (await conn.fetchval("SELECT status FROM otp.employee_master WHERE employee_id = $1", employee_id))
        == "active"
    ):
        await request_sms(conn, employee_id, "registration_open", {})
    return {f: str(v) for f, v in changed.items()}


async def open_correction_request(
    conn: asyncpg.Connection, certificate_id: str, employee_id: str, issued_by: str, remarks: str
) -> bool:
    owner = await conn.fetchval("SELECT data_owner FROM otp.employee_master WHERE employee_id = $1", employee_id)
    if owner is None:
        return False
    await conn.execute(
        "INSERT INTO otp.correction_request (certificate_id, employee_id, data_owner, issued_by, remarks) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        uuid.UUID(certificate_id),
        employee_id,
        owner,
        issued_by,
        remarks,
    )
    return True


async def correct(
    ctx,
    employee_id: str,
    changes: dict,
    *,
    changed_by: str,
    data_owner: str,
    reason: str,
    certificate_id: str | None,
    from_addr: str,
) -> dict:
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await apply_correction(
            conn,
            employee_id,
            changes,
            changed_by=changed_by,
            data_owner=data_owner,
            source="api",
            reason=reason,
            certificate_id=certificate_id,
            from_addr=from_addr,
        )


async def changes_of(ctx, employee_id: str, data_owner: str) -> list[dict]:
    """Every change a data owner made to one record, oldest first."""
    rows = await ctx.pool.fetch(
        "SELECT field, old_value, new_value, changed_by, source, reason, certificate_id::text, changed_at "
        "FROM otp.master_change WHERE employee_id = $1 AND data_owner = $2 ORDER BY id",
        employee_id,
        data_owner,
    )
    return [dict(r) for r in rows]


async def open_requests(ctx, data_owner: str) -> list[dict]:
    """Correction requests from verification certificates not yet acted on by this data owner."""
    rows = await ctx.pool.fetch(
        "SELECT certificate_id::text, employee_id, issued_by, remarks, requested_at FROM otp.correction_request "
        "WHERE data_owner = $1 AND corrected_at IS NULL ORDER BY requested_at",
        data_owner,
    )
    return [dict(r) for r in rows]


PREFILL_FIELDS = ("name", "father_name", "date_of_birth")
PREFILL_LABELS = {"name": "name", "father_name": "father's name", "date_of_birth": "date of birth"}


async def prefill(ctx, employee_id: str) -> dict:
    """The form's auto-fill from Family ID (PPP) beside the service record, with each mismatch."""
    rec = await ctx.pool.fetchrow("SELECT * FROM otp.employee_master WHERE employee_id = $1", employee_id)
    if rec is None:
        raise ApiError(404, "record_not_found", "There is no service record for your login.")
    ppp = await ctx.pool.fetchrow(
        "SELECT name, father_name, date_of_birth FROM otp.ppp_registry WHERE family_id = $1", rec["family_id"]
    )
    mismatches = (
        []
        if ppp is None
        else [
            {
                "field": f,
                "label": PREFILL_LABELS[f],
                "family_id_value": str(ppp[f]),
                "service_record_value": str(rec[f]),
            }
            for f in PREFILL_FIELDS
            if ppp[f] != rec[f]
        ]
    )
    return {
        "family_id": rec["family_id"],
        "family_id_details": {f: str(ppp[f]) for f in PREFILL_FIELDS} if ppp else None,
        "service_record": {
            k: str(rec[k])
            for k in (*PREFILL_FIELDS, "department_code", "district", "post_code", "ddo_code", "date_of_joining")
        },
        "mismatches": mismatches,
    }


async def set_sms_language(ctx, employee_id: str, language: str) -> None:
    await ctx.pool.execute(
        "UPDATE otp.employee_master SET sms_language = $2 WHERE employee_id = $1", employee_id, language
    )
