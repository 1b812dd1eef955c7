from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from temporalio.service import RPCError

from contract import CaseStatus, SeasonCalendar, case_workflow_id
from services.common.auth import EMPLOYEE, Principal, require_roles
from services.common.errors import ApiError
from services.common.runtime import ServiceContext, context

from . import documents, service
from .calendar import calendar_in_force
from .schemas import ApplicationForm, ApplicationReceipt, ApplicationStatus, DocumentOut, IdentityIn, IdentityOut

router = APIRouter(tags=["applications"])


@router.post("/applications", status_code=201, response_model=ApplicationReceipt)
async def submit_application(
    form: ApplicationForm,
    ctx: ServiceContext = Depends(context),
    employee: Principal = Depends(require_roles(EMPLOYEE)),
):
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
    ctx: ServiceContext = Depends(context),
    employee: Principal = Depends(require_roles(EMPLOYEE)),
):
    """Upload a document as the raw request body (PDF, JPEG or PNG, at most 5 MB); each upload is a new version."""
    return await documents.store_document(ctx, employee.subject, kind, await documents.read_capped(request))


@router.get("/applications/documents", response_model=list[DocumentOut], tags=["documents"])
async def my_documents(ctx: ServiceContext = Depends(context), employee: Principal = Depends(require_roles(EMPLOYEE))):
    async with ctx.pool.acquire() as conn:
        return await documents.latest_documents(conn, employee.subject)


@router.put("/applications/identity", response_model=IdentityOut, tags=["documents"])
async def set_identity(
    body: IdentityIn, ctx: ServiceContext = Depends(context), employee: Principal = Depends(require_roles(EMPLOYEE))
):
    """Aadhaar (checked by its Verhoeff digit, kept encrypted, shown by its last four) and PAN."""
    return await documents.store_identity(ctx, employee.subject, body.aadhaar_number, body.pan)


@router.get("/applications/{application_no}", response_model=ApplicationStatus)
async def application_status(
    application_no: str, ctx: ServiceContext = Depends(context), employee: Principal = Depends(require_roles(EMPLOYEE))
):
    """Where the application stands, read from the employee's case."""
    row = await ctx.pool.fetchrow(
        "SELECT employee_id, submitted_at, status, remarks, (SELECT count(*) FROM "
        "applications.submission s WHERE s.application_no = a.application_no) AS submissions "
        "FROM applications.application a WHERE application_no = $1",
        application_no,
    )
    if row is None or row["employee_id"] != employee.subject:  # another's number looks the same as none
        raise ApiError(404, "application_not_found", f"There is no application {application_no} in your name.")
    try:
        case: CaseStatus = await ctx.temporal.get_workflow_handle(case_workflow_id(employee.subject)).query(
            "status", result_type=CaseStatus
        )
    except RPCError:
        raise ApiError(
            503, "case_unavailable", "The status of this application cannot be read just now; try again shortly."
        ) from None
    return ApplicationStatus(
        application_no=application_no,
        submitted_at=row["submitted_at"],
        status=row["status"],
        stage=case.stage,
        next_step=case.next_step,
        next_deadline=case.next_deadline,
        order_no=case.order_no,
        remarks=row["remarks"],
        submissions=row["submissions"],
        eligibility=[r.__dict__ for r in case.eligibility.results] if case.eligibility else None,
    )


@router.put("/applications/{application_no}", response_model=ApplicationReceipt)
async def resubmit_application(
    application_no: str,
    form: ApplicationForm,
    ctx: ServiceContext = Depends(context),
    employee: Principal = Depends(require_roles(EMPLOYEE)),
):
    """Correct and resubmit an application the DDO returned; every submission is kept."""
    submitted_at = await service.resubmit(ctx, employee.subject, application_no, form)
    return ApplicationReceipt(
        application_no=application_no,
        employee_id=employee.subject,
        submitted_at=submitted_at,
        message=f"Application {application_no} resubmitted to your DDO.",
    )


@router.get("/calendar", response_model=SeasonCalendar, tags=["deadline calendar"])
async def calendar(season_id: str | None = None, ctx: ServiceContext = Depends(context)):
    """The deadlines in force. Public: every employee may know them, and the cases worker keeps its copy
    of the calendar from here (workflows/calendar_copy.py)."""
    season = season_id or ctx.settings.season_id
    async with ctx.pool.acquire() as conn:
        try:
            return await calendar_in_force(conn, season)
        except LookupError:
            raise ApiError(404, "season_not_found", f"There is no calendar for season {season}.") from None
