"""Verification certificates: a DDO (for their DDO code), an HoD or Administrative Secretary (for their
department) attests that the employee is genuine, the service record complete and the pay head right."""

from __future__ import annotations

import uuid
from typing import Any

from contract import EventType
from contract import search_attributes as sa
from services.common import audit
from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.events import publish
from services.common.runtime import VerificationContext
from services.common.scope import covers

from .schemas import CertificateIn, NewRecordCertificateIn


async def _case_scope(ctx: VerificationContext, employee_id: str) -> dict[str, Any]:
    """The employee's DDO code and department, as the case carries them (its search attributes). The case engine
    down is raised as it is: the service answers it as an outage (503, Retry-After), not as no such employee."""
    attributes = await ctx.case_attributes(employee_id)
    if attributes is None:
        raise ApiError(404, "employee_not_found", f"There is no case for employee {employee_id}.")
    return {"ddo_code": attributes.get(sa.DDO_CODE), "department": attributes.get(sa.DEPARTMENT)}


async def issue(
    ctx: VerificationContext, officer: Principal, body: CertificateIn, from_addr: str | None = None
) -> dict[str, Any]:
    scope = await _case_scope(ctx, body.employee_id)
    if not covers(officer, ddo_code=scope["ddo_code"], department=scope["department"]):
        raise ApiError(404, "employee_not_found", f"Employee {body.employee_id} is not within your charge.")
    certificate_id = uuid.uuid4()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('cert:' || $1))", body.employee_id)
        same = await conn.fetchrow(
            "SELECT certificate_id, issued_at FROM verification.certificate WHERE employee_id = $1 "
            "AND issued_by = $2 AND remarks = $3",
            body.employee_id,
            officer.subject,
            body.remarks,
        )
        if same is not None:  # the same certificate asked for again (a retry): the one already issued
            return {
                "certificate_id": str(same["certificate_id"]),
                "employee_id": body.employee_id,
                "issued_by": officer.subject,
                "issued_at": same["issued_at"],
            }
        issued_at = await conn.fetchval(
            "INSERT INTO verification.certificate (certificate_id, employee_id, issued_by, issuer_role, "
            "genuine_contractual_employee, full_service_record_available, pay_from_contractual_head, remarks) "
            "VALUES ($1, $2, $3, $4, true, true, true, $5) RETURNING issued_at",
            certificate_id,
            body.employee_id,
            officer.subject,
            officer.role,
            body.remarks,
        )
        await publish(
            conn,
            "verification",
            "certificate.issued",
            body.employee_id,
            {
                "certificate_id": str(certificate_id),
                "issued_by": officer.subject,
                "issuer_role": officer.role,
                "remarks": body.remarks,
            },
        )
        await audit.append(
            conn,
            "verification",
            officer,
            "certificate.issue",
            body.employee_id,
            from_addr=from_addr,
            before=None,
            after="certified",
            details={"certificate_id": str(certificate_id)},
        )
    return {
        "certificate_id": str(certificate_id),
        "employee_id": body.employee_id,
        "issued_by": officer.subject,
        "issued_at": issued_at,
    }


async def issue_for_new_record(
    ctx: VerificationContext, officer: Principal, body: NewRecordCertificateIn, from_addr: str | None = None
) -> dict[str, Any]:
    """A person in no government database has no case and no record for a certificate to name: the officer
    certifies them for an office in their own charge, and the data owner named is asked to add the record
    (services/otp: POST /master/employees), which starts the employee's case. Asking again gives the same
    certificate."""
    if not covers(officer, ddo_code=body.ddo_code, department=body.department_code):
        raise ApiError(403, "not_in_your_charge", f"The office {body.ddo_code} is not within your charge.")
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('new-record:' || $1))", body.family_id)
        same = await conn.fetchrow(
            "SELECT certificate_id, data_owner, issued_at FROM verification.new_record_certificate "
            "WHERE family_id = $1 AND ddo_code = $2 AND issued_by = $3",
            body.family_id,
            body.ddo_code,
            officer.subject,
        )
        if same is not None:
            return {
                "certificate_id": str(same["certificate_id"]),
                "data_owner": same["data_owner"],
                "issued_by": officer.subject,
                "issued_at": same["issued_at"],
            }
        certificate_id = uuid.uuid4()
        issued_at = await conn.fetchval(
            "INSERT INTO verification.new_record_certificate (certificate_id, family_id, data_owner, "
            "department_code, district, ddo_code, issued_by, issuer_role, genuine_contractual_employee, "
            "full_service_record_available, pay_from_contractual_head, remarks) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, true, true, $9) RETURNING issued_at",
            certificate_id,
            body.family_id,
            body.data_owner,
            body.department_code,
            body.district,
            body.ddo_code,
            officer.subject,
            officer.role,
            body.remarks,
        )
        await publish(
            conn,
            "verification",
            EventType.NEW_RECORD_CERTIFIED,
            f"new-record:{certificate_id}",  # no employee id yet: the data owner gives it
            {
                "certificate_id": str(certificate_id),
                "family_id": body.family_id,
                "data_owner": body.data_owner,
                "department_code": body.department_code,
                "district": body.district,
                "ddo_code": body.ddo_code,
                "issued_by": officer.subject,
                "issuer_role": officer.role,
                "remarks": body.remarks,
            },
        )
        await audit.append(
            conn,
            "verification",
            officer,
            "certificate.new_record",
            f"new-record:{certificate_id}",
            from_addr=from_addr,
            before=None,
            after=f"certified for {body.ddo_code}, record to be added by {body.data_owner}",
            details={"certificate_id": str(certificate_id)},
        )
    return {
        "certificate_id": str(certificate_id),
        "data_owner": body.data_owner,
        "issued_by": officer.subject,
        "issued_at": issued_at,
    }
