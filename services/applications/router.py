from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from contract import SeasonCalendar
from services.common.auth import EMPLOYEE, Principal, require_roles
from services.common.runtime import ApplicationsContext, context

from . import documents, service
from .schemas import (
    ApplicationForm,
    ApplicationReceipt,
    ApplicationStatus,
    DocumentOut,
    IdentityIn,
    IdentityOut,
    MyCase,
)

router = APIRouter(tags=["applications"])


@router.post("/applications", status_code=201, response_model=ApplicationReceipt)
async def submit_application(
    form: ApplicationForm,
    ctx: ApplicationsContext = Depends(context),
    employee: Principal = Depends(require_roles(EMPLOYEE)),
) -> ApplicationReceipt:
    """Submit the application; the application number is the receipt."""
    application_no, submitted_at = await service.submit(ctx, employee.subject, form)
    return ApplicationReceipt(
        application_no=application_no,
        employee_id=employee.subject,
        submitted_at=submitted_at,
        message=f"Application {application_no} received. Keep this number to check its status.",
    )


@router.put(
    "/applications/documents/{kind}",
    response_model=DocumentOut,
    tags=["documents"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {mt: {"schema": {"type": "string", "format": "binary"}} for mt in documents.ALLOWED},
        }
    },
)
async def upload_document(
    kind: str,
    request: Request,
    ctx: ApplicationsContext = Depends(context),
    employee: Principal = Depends(require_roles(EMPLOYEE)),
) -> dict[str, Any]:
    """Upload a document as the raw request body (PDF, JPEG or PNG, at most 5 MB); each upload is a new version."""
    return await documents.store_document(ctx, employee.subject, kind, await documents.read_capped(request))


@router.get("/applications/documents", response_model=list[DocumentOut], tags=["documents"])
async def my_documents(
    ctx: ApplicationsContext = Depends(context), employee: Principal = Depends(require_roles(EMPLOYEE))
) -> list[dict[str, Any]]:
    return await documents.mine(ctx, employee.subject)


@router.get("/applications/identity", response_model=IdentityOut, tags=["documents"])
async def my_identity(
    ctx: ApplicationsContext = Depends(context), employee: Principal = Depends(require_roles(EMPLOYEE))
) -> dict[str, Any]:
    """The Aadhaar number by its last four and the PAN, for the employee's review before they submit."""
    return await documents.identity_of(ctx, employee.subject)


@router.put("/applications/identity", response_model=IdentityOut, tags=["documents"])
async def set_identity(
    body: IdentityIn,
    ctx: ApplicationsContext = Depends(context),
    employee: Principal = Depends(require_roles(EMPLOYEE)),
) -> dict[str, Any]:
    """Aadhaar (checked by its Verhoeff digit, kept encrypted, shown by its last four) and PAN."""
    return await documents.store_identity(ctx, employee.subject, body.aadhaar_number, body.pan)


@router.get("/applications/mine", response_model=MyCase)
async def my_case(
    ctx: ApplicationsContext = Depends(context), employee: Principal = Depends(require_roles(EMPLOYEE))
) -> MyCase:
    """Your case: its stage, what comes next and by when, its history, and your application if any."""
    return MyCase(**await service.my_case(ctx, employee.subject))


@router.get("/applications/{application_no}", response_model=ApplicationStatus)
async def application_status(
    application_no: str,
    ctx: ApplicationsContext = Depends(context),
    employee: Principal = Depends(require_roles(EMPLOYEE)),
) -> ApplicationStatus:
    """Where the application stands, read from the employee's case."""
    return ApplicationStatus(**await service.status(ctx, employee.subject, application_no))


@router.put("/applications/{application_no}", response_model=ApplicationReceipt)
async def resubmit_application(
    application_no: str,
    form: ApplicationForm,
    ctx: ApplicationsContext = Depends(context),
    employee: Principal = Depends(require_roles(EMPLOYEE)),
) -> ApplicationReceipt:
    """Correct and resubmit an application the DDO returned; every submission is kept."""
    submitted_at = await service.resubmit(ctx, employee.subject, application_no, form)
    return ApplicationReceipt(
        application_no=application_no,
        employee_id=employee.subject,
        submitted_at=submitted_at,
        message=f"Application {application_no} resubmitted to your DDO.",
    )


@router.get("/calendar", response_model=SeasonCalendar, tags=["deadline calendar"])
async def calendar(season_id: str | None = None, ctx: ApplicationsContext = Depends(context)) -> SeasonCalendar:
    """The deadlines in force. Public: every employee may know them, and the cases worker keeps its copy
    of the calendar from here (workflows/calendar_copy.py)."""
    return await service.calendar(ctx, season_id or ctx.settings.season_id)
