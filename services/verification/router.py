from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from services.common.auth import ADMIN_SECRETARY, ADMINISTRATOR, DDO, FINANCE, HOD, Principal, require_roles
from services.common.errors import ApiError, log_denied_item
from services.common.runtime import VerificationContext, client_addr, context

from . import certificates, escalation, service
from .schemas import (
    BulkDecision,
    CertificateIn,
    CertificateOut,
    Decision,
    DecisionOut,
    ItemResult,
    NewRecordCertificateIn,
    NewRecordCertificateOut,
    Notification,
    QueueItem,
    ReportRow,
)

router = APIRouter(prefix="/verification", tags=["DDO verification"])


@router.get("/queue", response_model=list[QueueItem])
async def my_queue(
    response: Response,
    status: Literal["pending", "verified", "rejected", "returned"] = "pending",
    department: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    ctx: VerificationContext = Depends(context),
    officer: Principal = Depends(require_roles(DDO, HOD, ADMIN_SECRETARY)),
) -> list[dict[str, Any]]:
    """The officer's own queue, earliest deadline first: a DDO's applications, or those escalated to an HoD
    or Administrative Secretary. A page (`limit`, `offset`); `X-Total-Count` says how many there are in all."""
    items, total = await service.queue(ctx, officer, status, department, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return items


@router.get("/notifications", response_model=list[Notification])
async def my_notifications(
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    ctx: VerificationContext = Depends(context),
    officer: Principal = Depends(require_roles(DDO, HOD, ADMIN_SECRETARY, FINANCE)),
) -> list[dict[str, Any]]:
    """Missed deadlines and escalations that concern you, newest first."""
    return await escalation.notifications(ctx, officer, limit, offset)


@router.get("/reports/accountability", response_model=list[ReportRow], tags=["reports"])
async def accountability_report(
    group_by: Literal["stage", "department", "district", "ddo", "officer"] = "department",
    ctx: VerificationContext = Depends(context),
    officer: Principal = Depends(require_roles(ADMINISTRATOR, ADMIN_SECRETARY)),
) -> list[dict[str, Any]]:
    """Pending and overdue verifications, escalations, and missed deadlines by officer or stage; an
    Administrative Secretary sees their own department only."""
    return await escalation.report(ctx, group_by, officer)


@router.post("/applications/{application_no}/decision", response_model=DecisionOut)
async def decide(
    application_no: str,
    body: Decision,
    request: Request,
    ctx: VerificationContext = Depends(context),
    ddo: Principal = Depends(require_roles(DDO, HOD, ADMIN_SECRETARY)),
) -> dict[str, Any]:
    """Verify the service record, return it for correction, or reject it with reason codes. Repeating the
    same decision is harmless."""
    return await service.decide(ctx, ddo, application_no, body, client_addr(request))


@router.post("/certificates", status_code=201, response_model=CertificateOut, tags=["verification certificates"])
async def issue_certificate(
    body: CertificateIn,
    request: Request,
    ctx: VerificationContext = Depends(context),
    officer: Principal = Depends(require_roles(DDO, HOD, ADMIN_SECRETARY)),
) -> dict[str, Any]:
    """Certify an employee whose record kept them from registering; the data owner is asked to correct it."""
    return await certificates.issue(ctx, officer, body, client_addr(request))


@router.post(
    "/certificates/new-record",
    status_code=201,
    response_model=NewRecordCertificateOut,
    tags=["verification certificates"],
)
async def certify_new_record(
    body: NewRecordCertificateIn,
    request: Request,
    ctx: VerificationContext = Depends(context),
    officer: Principal = Depends(require_roles(DDO, HOD, ADMIN_SECRETARY)),
) -> dict[str, Any]:
    """Certify a person who is in no government database, for an office in your charge; the data owner named is
    asked to add their record, which starts their case."""
    return await certificates.issue_for_new_record(ctx, officer, body, client_addr(request))


@router.post("/decisions/bulk", response_model=list[ItemResult])
async def bulk_verify(
    body: BulkDecision,
    request: Request,
    ctx: VerificationContext = Depends(context),
    officer: Principal = Depends(require_roles(DDO, HOD, ADMIN_SECRETARY)),
) -> list[ItemResult]:
    """Verify many applications at once; each is checked and decided on its own, and its outcome reported."""
    results = []
    for application_no in dict.fromkeys(body.application_nos):
        try:
            done = await service.decide(
                ctx, officer, application_no, Decision(decision=body.decision), client_addr(request)
            )
            results.append(ItemResult(application_no=application_no, ok=True, status=done["status"]))
        except ApiError as err:
            log_denied_item(request, err, application_no)
            results.append(ItemResult(application_no=application_no, ok=False, code=err.code, message=err.message))
    return results
