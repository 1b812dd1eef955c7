"""Verification certificates: a DDO (for their DDO code), an HoD or Administrative Secretary (for their
department) attests that the employee is genuine, the service record complete and the pay head right."""

from __future__ import annotations

import uuid

from temporalio.service import RPCError

from contract import case_workflow_id
from services.common import audit
from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.events import publish
from services.common.runtime import ServiceContext
from services.common.scope import covers

from .schemas import CertificateIn


async def _case_scope(ctx: ServiceContext, employee_id: str) -> dict:
    """The employee's DDO code and department, as the case carries them (its search attributes)."""
    try:
        desc = await ctx.temporal.get_workflow_handle(case_workflow_id(employee_id)).describe()
    except RPCError:
        raise ApiError(404, "employee_not_found", f"There is no case for employee {employee_id}.") from None
    attrs = desc.typed_search_attributes
    from contract import search_attributes as sa

    return {"ddo_code": attrs.get(sa.DDO_CODE), "department": attrs.get(sa.DEPARTMENT)}


async def issue(ctx: ServiceContext, officer: Principal, body: CertificateIn, from_addr: str | None = None) -> dict:
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
