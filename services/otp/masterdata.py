"""Master records belong to their data owners (HKRN for Part-1, Treasury for Part-2, HARTRON). Owners
push corrections through the API or as Kafka events; every change is kept with who, when and why. A
record that kept an employee from registering is corrected only under a verification certificate."""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any

import asyncpg
from pydantic import ValidationError

from contract import EventType
from services.common import audit
from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.events import publish
from services.common.runtime import OtpContext
from services.common.scope import covers

from .diagnosis import first_report_not_in_database
from .mobile import normalise_mobile
from .records import MASTER_COLUMNS, OWNER_OF_GROUP, RecordRow
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

log = logging.getLogger("seva.otp")


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
    changes: dict[str, Any],
    *,
    changed_by: str,
    data_owner: str,
    source: str,
    reason: str,
    certificate_id: str | None,
    from_addr: str | None = None,
) -> dict[str, Any]:
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
    ctx: OtpContext,
    employee_id: str,
    changes: dict[str, Any],
    *,
    changed_by: str,
    data_owner: str,
    reason: str,
    certificate_id: str | None,
    from_addr: str,
) -> dict[str, Any]:
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


async def changes_of(ctx: OtpContext, employee_id: str, data_owner: str) -> list[dict[str, Any]]:
    """Every change a data owner made to one record, oldest first."""
    rows = await ctx.pool.fetch(
        "SELECT field, old_value, new_value, changed_by, source, reason, certificate_id::text, changed_at "
        "FROM otp.master_change WHERE employee_id = $1 AND data_owner = $2 ORDER BY id",
        employee_id,
        data_owner,
    )
    return [dict(r) for r in rows]


async def open_requests(ctx: OtpContext, data_owner: str) -> list[dict[str, Any]]:
    """Correction requests from verification certificates not yet acted on by this data owner."""
    rows = await ctx.pool.fetch(
        "SELECT certificate_id::text, employee_id, issued_by, remarks, requested_at FROM otp.correction_request "
        "WHERE data_owner = $1 AND corrected_at IS NULL ORDER BY requested_at",
        data_owner,
    )
    return [dict(r) for r in rows]


PREFILL_FIELDS = ("name", "father_name", "date_of_birth")
PREFILL_LABELS = {"name": "name", "father_name": "father's name", "date_of_birth": "date of birth"}


async def prefill(ctx: OtpContext, employee_id: str) -> dict[str, Any]:
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


async def record_for_officer(ctx: OtpContext, officer: Principal, employee_id: str) -> dict[str, Any]:
    """The service record beside the Family ID, for the officer who decides on this employee's application: the
    DDO compares it with the documents. Another office's employee is not found, and the refusal is logged."""
    rec = await ctx.pool.fetchrow(
        "SELECT ddo_code, department_code FROM otp.employee_master WHERE employee_id = $1", employee_id
    )
    if rec is None or not covers(officer, ddo_code=rec["ddo_code"], department=rec["department_code"]):
        log.warning("denied: %s (%s) asked for the record of an employee not theirs", officer.subject, officer.role)
        raise ApiError(404, "record_not_found", "There is no service record of an employee of yours with this id.")
    return await prefill(ctx, employee_id)


async def set_sms_language(ctx: OtpContext, employee_id: str, language: str) -> None:
    await ctx.pool.execute(
        "UPDATE otp.employee_master SET sms_language = $2 WHERE employee_id = $1", employee_id, language
    )


# ---- a record for a person in no government database ---------------------------------------------------


async def open_record_request(conn: asyncpg.Connection, certificate_id: str, data: dict[str, Any]) -> None:
    """A certificate for a person in no database asks their data owner to add the record (kept until added)."""
    await conn.execute(
        "INSERT INTO otp.record_request (certificate_id, family_id, data_owner, department_code, district, ddo_code, "
        "issued_by, remarks) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        uuid.UUID(certificate_id),
        data["family_id"],
        data["data_owner"],
        data["department_code"],
        data["district"],
        data["ddo_code"],
        data["issued_by"],
        data.get("remarks", ""),
    )


async def open_record_requests(ctx: OtpContext, data_owner: str) -> list[dict[str, Any]]:
    rows = await ctx.pool.fetch(
        "SELECT certificate_id::text, family_id, department_code, district, ddo_code, issued_by, remarks, "
        "requested_at FROM otp.record_request WHERE data_owner = $1 AND added_at IS NULL ORDER BY requested_at",
        data_owner,
    )
    return [dict(r) for r in rows]


async def add_record(
    ctx: OtpContext, record: dict[str, Any], certificate_id: str, *, added_by: str, data_owner: str, from_addr: str
) -> dict[str, Any]:
    """Add the record a certificate asked for: the office (department, district, DDO) and the Family ID are the
    certificate's, the rest the data owner's. The record and its event (the cases worker starts the case on it)
    commit together; the same addition sent again returns the record added."""
    try:
        certificate = uuid.UUID(certificate_id)
    except ValueError:
        certificate = None
    async with ctx.pool.acquire() as conn, conn.transaction():
        request: Any = certificate and await conn.fetchrow(
            "SELECT * FROM otp.record_request WHERE certificate_id = $1 AND data_owner = $2 FOR UPDATE",
            certificate,
            data_owner,
        )
        if request is None:
            raise ApiError(
                404,
                "certificate_not_found",
                f"No certificate {certificate_id} asks {data_owner} to add a record (it may still be on its way).",
            )
        if request["employee_id"] is not None:
            if request["employee_id"] == record.get("employee_id"):
                return {"employee_id": request["employee_id"], "added_at": request["added_at"]}
            raise ApiError(
                409, "certificate_used", f"A record ({request['employee_id']}) was already added on this certificate."
            )
        row = {
            **record,
            "family_id": request["family_id"],
            "department_code": request["department_code"],
            "district": request["district"],
            "ddo_code": request["ddo_code"],
            "status": "active",
        }
        try:
            checked = RecordRow(**row).model_dump()
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            why = str(first["msg"]).removeprefix("Value error, ").rstrip(".")
            raise ApiError(422, "invalid_record", f"The record's {field} is not valid: {why}.", field=field) from None
        if OWNER_OF_GROUP[checked["employee_group"]] != data_owner:
            raise ApiError(
                422,
                "wrong_data_owner",
                f"{checked['employee_group']} records belong to {OWNER_OF_GROUP[checked['employee_group']]}, "
                f"not to {data_owner}.",
            )
        if await conn.fetchval("SELECT 1 FROM otp.employee_master WHERE employee_id = $1", checked["employee_id"]):
            raise ApiError(409, "employee_exists", f"There is already a record {checked['employee_id']}.")
        if await conn.fetchval("SELECT 1 FROM otp.employee_master WHERE mobile = $1", checked["mobile"]):
            raise ApiError(409, "mobile_in_use", "That mobile number is already on another employee's record.")
        columns = [c for c in MASTER_COLUMNS if c != "data_owner"]
        await conn.execute(
            f"INSERT INTO otp.employee_master (data_owner, {', '.join(columns)}) "
            f"VALUES ($1, {', '.join(f'${i}' for i in range(2, len(columns) + 2))})",
            data_owner,
            *[checked[c] for c in columns],
        )
        added_at = await conn.fetchval(
            "UPDATE otp.record_request SET employee_id = $2, added_at = now() WHERE certificate_id = $1 "
            "RETURNING added_at",
            request["certificate_id"],
            checked["employee_id"],
        )
        await conn.execute(
            "INSERT INTO otp.master_change (employee_id, field, old_value, new_value, changed_by, data_owner, source, "
            "reason, certificate_id) VALUES ($1, 'record', '', 'added', $2, $3, 'api', $4, $5)",
            checked["employee_id"],
            added_by,
            data_owner,
            f"added on the certificate of {request['issued_by']}",
            request["certificate_id"],
        )
        reported = await first_report_not_in_database(conn, request["family_id"])
        await audit.append(
            conn,
            "otp",
            Principal(added_by, "data_officer", {"data_owner": data_owner}),
            "master.add",
            checked["employee_id"],
            from_addr=from_addr,
            before=None,
            after="added",
            details={"certificate_id": certificate_id},
        )
        await publish(
            conn,
            "otp",
            EventType.RECORD_ADDED,
            checked["employee_id"],
            {
                "season_id": ctx.settings.season_id,
                # asked "Why no OTP?" before registration closed? The new case holds registration open then
                "no_otp_reported_at": reported.isoformat() if reported else None,
                "record_added_at": added_at.isoformat(),
                "employee_group": checked["employee_group"],
                "department_code": checked["department_code"],
                "district": checked["district"],
                "ddo_code": checked["ddo_code"],
                "certificate_id": certificate_id,
            },
        )
        await request_sms(conn, checked["employee_id"], "registration_open", {})
    return {"employee_id": checked["employee_id"], "added_at": added_at}
