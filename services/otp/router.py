from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from services.common.auth import DATA_OFFICER, DDO, EMPLOYEE, Principal, require_roles
from services.common.errors import ApiError
from services.common.runtime import ServiceContext, client_addr, context

from . import diagnosis, masterdata, service
from .mobile import normalise_mobile
from .schemas import (
    Correction,
    CorrectionOut,
    CorrectionRequestOut,
    DiagnosisOut,
    FieldMismatch,
    LanguageChoice,
    MasterChange,
    OtpRequest,
    OtpRequested,
    OtpVerify,
    Prefill,
    Session,
    SmsMessage,
    WhyNoOtpAnswer,
    WhyNoOtpRequest,
)
from .sms import as_delivered

router = APIRouter(prefix="/otp", tags=["registration by mobile OTP"])
dev_router = APIRouter(prefix="/dev", tags=["dev only"])


@router.post("/request", status_code=202, response_model=OtpRequested)
async def request_otp(body: OtpRequest, request: Request, ctx: ServiceContext = Depends(context)):
    """Send an OTP to the mobile on the employee's HKRN / Treasury record."""
    mobile = normalise_mobile(body.mobile)
    challenge_id, ttl = await service.request_otp(ctx, mobile, client_addr(request))
    return OtpRequested(
        challenge_id=challenge_id,
        expires_in_seconds=ttl,
        message="If this mobile number is on a government service record, an OTP has been sent to it. "
        "No SMS within a few minutes? Use 'Why no OTP?' to find out why and what to do.",
    )


@router.post("/verify", response_model=Session)
async def verify_otp(body: OtpVerify, ctx: ServiceContext = Depends(context)):
    """Check the code; a right code registers the employee and opens a session."""
    mobile = normalise_mobile(body.mobile)
    employee_id, token = await service.verify_otp(ctx, mobile, body.code)
    return Session(token=token, employee_id=employee_id, expires_in_seconds=ctx.settings.session_ttl_seconds)


@dev_router.get("/sms", response_model=list[SmsMessage])
async def dev_sms(mobile: str = Query(...), ctx: ServiceContext = Depends(context)):
    """Dev only (the route does not exist elsewhere): the messages the dev SMS inbox received for a mobile,
    newest last, as the phone showed them."""
    rows = await ctx.pool.fetch(
        "SELECT mobile, template, language, template_id, body, outcome, handled_at, reference FROM otp.sms_delivery "
        "WHERE mobile = $1 ORDER BY handled_at",
        normalise_mobile(mobile),
    )
    return [
        SmsMessage(
            **{
                **dict(r),
                "body": as_delivered(ctx.settings, r["template"], r["body"], r["reference"]),
                "handled_at": r["handled_at"].isoformat(),
            }
        )
        for r in rows
    ]


# ---- "Why no OTP?" -------------------------------------------------------------------------------


@router.post("/why-no-otp", response_model=WhyNoOtpAnswer)
async def why_no_otp(body: WhyNoOtpRequest, request: Request, ctx: ServiceContext = Depends(context)):
    """The exact reason an OTP does not reach you, and what to do, with personal data masked. Limited per
    Family ID and per client address."""
    mobile, family_id = normalise_mobile(body.mobile), body.family_id.strip().upper()
    async with ctx.pool.acquire() as conn:
        async with conn.transaction():  # the ask is counted even when the identity is not confirmed
            await diagnosis.check_limits(conn, ctx.settings, family_id, client_addr(request))
        async with conn.transaction():
            found = await diagnosis.diagnose(conn, family_id, body.date_of_birth, mobile)
            await diagnosis.record(conn, found)
    return found.public()


@router.get("/diagnoses", response_model=list[DiagnosisOut], tags=["officers"])
async def ddo_diagnoses(
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    ctx: ServiceContext = Depends(context),
    ddo: Principal = Depends(require_roles(DDO)),
):
    """A DDO sees the 'Why no OTP?' diagnoses of their own employees, newest first."""
    rows = await ctx.pool.fetch(
        "SELECT employee_id, causes, diagnosed_at FROM otp.diagnosis WHERE ddo_code = $1 "
        "ORDER BY diagnosed_at DESC LIMIT $2 OFFSET $3",
        ddo.scope.get("ddo_code"),
        limit,
        offset,
    )
    return [DiagnosisOut(**dict(r)) for r in rows]


# ---- master records: the data owners' corrections ----------------------------------------------

master_router = APIRouter(prefix="/master", tags=["master records (data owners)"])


def _owner(officer: Principal) -> str:
    owner = officer.scope.get("data_owner")
    if not owner:
        raise ApiError(403, "forbidden", "Your login is not tied to a data owner (HKRN, Treasury or HARTRON).")
    return owner


@master_router.patch("/employees/{employee_id}", response_model=CorrectionOut)
async def correct_record(
    employee_id: str,
    body: Correction,
    request: Request,
    ctx: ServiceContext = Depends(context),
    officer: Principal = Depends(require_roles(DATA_OFFICER)),
):
    """Correct a record your organisation holds; each change is kept with who, when and why."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        changed = await masterdata.apply_correction(
            conn,
            employee_id,
            body.changes,
            changed_by=officer.subject,
            data_owner=_owner(officer),
            source="api",
            reason=body.reason,
            certificate_id=body.certificate_id,
            from_addr=client_addr(request),
        )
    return CorrectionOut(employee_id=employee_id, changed=changed)


@master_router.get("/employees/{employee_id}/changes", response_model=list[MasterChange])
async def record_changes(
    employee_id: str, ctx: ServiceContext = Depends(context), officer: Principal = Depends(require_roles(DATA_OFFICER))
):
    rows = await ctx.pool.fetch(
        "SELECT field, old_value, new_value, changed_by, source, reason, certificate_id::text, changed_at "
        "FROM otp.master_change WHERE employee_id = $1 AND data_owner = $2 ORDER BY id",
        employee_id,
        _owner(officer),
    )
    return [MasterChange(**dict(r)) for r in rows]


@master_router.get("/correction-requests", response_model=list[CorrectionRequestOut])
async def correction_requests(
    ctx: ServiceContext = Depends(context), officer: Principal = Depends(require_roles(DATA_OFFICER))
):
    """Open requests from verification certificates, for your organisation to correct."""
    rows = await ctx.pool.fetch(
        "SELECT certificate_id::text, employee_id, issued_by, remarks, requested_at FROM otp.correction_request "
        "WHERE data_owner = $1 AND corrected_at IS NULL ORDER BY requested_at",
        _owner(officer),
    )
    return [CorrectionRequestOut(**dict(r)) for r in rows]


@master_router.get("/me", response_model=Prefill, tags=["registration by mobile OTP"])
async def my_prefill(ctx: ServiceContext = Depends(context), employee: Principal = Depends(require_roles(EMPLOYEE))):
    """The form's auto-fill from Family ID (PPP), beside the service record, with each mismatch shown."""
    rec = await ctx.pool.fetchrow("SELECT * FROM otp.employee_master WHERE employee_id = $1", employee.subject)
    if rec is None:
        raise ApiError(404, "record_not_found", "There is no service record for your login.")
    ppp = await ctx.pool.fetchrow(
        "SELECT name, father_name, date_of_birth FROM otp.ppp_registry WHERE family_id = $1", rec["family_id"]
    )
    fields = ("name", "father_name", "date_of_birth")
    labels = {"name": "name", "father_name": "father's name", "date_of_birth": "date of birth"}
    mismatches = (
        []
        if ppp is None
        else [
            FieldMismatch(field=f, label=labels[f], family_id_value=str(ppp[f]), service_record_value=str(rec[f]))
            for f in fields
            if ppp[f] != rec[f]
        ]
    )
    return Prefill(
        family_id=rec["family_id"],
        family_id_details={f: str(ppp[f]) for f in fields} if ppp else None,
        service_record={
            k: str(rec[k]) for k in (*fields, "department_code", "district", "post_code", "ddo_code", "date_of_joining")
        },
        mismatches=mismatches,
    )


@master_router.put("/me/sms-language", response_model=LanguageChoice, tags=["registration by mobile OTP"])
async def set_sms_language(
    body: LanguageChoice, ctx: ServiceContext = Depends(context), employee: Principal = Depends(require_roles(EMPLOYEE))
):
    """SMS in Hindi (the default) or English."""
    await ctx.pool.execute(
        "UPDATE otp.employee_master SET sms_language = $2 WHERE employee_id = $1", employee.subject, body.language
    )
    return body
