from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request

from services.common.auth import ADMIN_SECRETARY, DATA_OFFICER, DDO, EMPLOYEE, HOD, Principal, require_roles
from services.common.errors import ApiError
from services.common.runtime import OtpContext, client_addr, context

from . import confirmation, diagnosis, masterdata, preseason, service, sms
from .mobile import normalise_mobile
from .schemas import (
    AuditFinding,
    Correction,
    CorrectionOut,
    CorrectionRequestOut,
    DiagnosisOut,
    FieldMismatch,
    LanguageChoice,
    MasterChange,
    MobileAnswer,
    MobileQuestion,
    NewRecord,
    OtpRequest,
    OtpRequested,
    OtpVerify,
    Prefill,
    RecordAdded,
    RecordRequestOut,
    Session,
    SmsMessage,
    WhyNoOtpAnswer,
    WhyNoOtpRequest,
)

router = APIRouter(prefix="/otp", tags=["registration by mobile OTP"])
dev_router = APIRouter(prefix="/dev", tags=["dev only"])


@router.post("/request", status_code=202, response_model=OtpRequested)
async def request_otp(body: OtpRequest, request: Request, ctx: OtpContext = Depends(context)) -> OtpRequested:
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
async def verify_otp(body: OtpVerify, ctx: OtpContext = Depends(context)) -> Session:
    """Check the code; a right code registers the employee and opens a session."""
    mobile = normalise_mobile(body.mobile)
    employee_id, token = await service.verify_otp(ctx, mobile, body.code)
    return Session(token=token, employee_id=employee_id, expires_in_seconds=ctx.settings.session_ttl_seconds)


@dev_router.get("/sms", response_model=list[SmsMessage])
async def dev_sms(mobile: str = Query(...), ctx: OtpContext = Depends(context)) -> list[SmsMessage]:
    """Dev only (the route does not exist elsewhere): the messages the dev SMS inbox received for a mobile,
    newest last, as the phone showed them."""
    return [SmsMessage(**m) for m in await sms.inbox(ctx, normalise_mobile(mobile))]


# ---- "Is this number yours?" (before the season opens) --------------------------------------------------


@router.get("/mobile-confirmations/{confirmation_id}/{code}", response_model=MobileQuestion, tags=["pre-season audit"])
async def mobile_question(
    confirmation_id: str = Path(max_length=40),
    code: str = Path(max_length=16),
    ctx: OtpContext = Depends(context),
) -> MobileQuestion:
    """The question an SMS link asks before the season opens: whether the (masked) number is the employee's.
    The link is its own authority (its code is derived with the OTP key); nothing else is shown."""
    return MobileQuestion(**await confirmation.look(ctx, confirmation_id, code))


@router.post("/mobile-confirmations/{confirmation_id}/{code}", response_model=MobileQuestion, tags=["pre-season audit"])
async def mobile_answer(
    body: MobileAnswer,
    confirmation_id: str = Path(max_length=40),
    code: str = Path(max_length=16),
    ctx: OtpContext = Depends(context),
) -> MobileQuestion:
    """ "mine" or "not_mine": the pre-season audit reads it. The first answer stands; the same again is harmless."""
    return MobileQuestion(**await confirmation.answer(ctx, confirmation_id, code, body.answer))


# ---- "Why no OTP?" -------------------------------------------------------------------------------


@router.post("/why-no-otp", response_model=WhyNoOtpAnswer)
async def why_no_otp(body: WhyNoOtpRequest, request: Request, ctx: OtpContext = Depends(context)) -> dict[str, Any]:
    """The exact reason an OTP does not reach you, and what to do, with personal data masked. Limited per
    Family ID and per client address."""
    found = await diagnosis.why_no_otp(
        ctx, body.family_id.strip().upper(), body.date_of_birth, normalise_mobile(body.mobile), client_addr(request)
    )
    return found.public()


@router.get("/diagnoses", response_model=list[DiagnosisOut], tags=["officers"])
async def ddo_diagnoses(
    employee_id: str | None = Query(None, max_length=32, description="one employee's diagnoses only"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    ctx: OtpContext = Depends(context),
    ddo: Principal = Depends(require_roles(DDO)),
) -> list[DiagnosisOut]:
    """A DDO sees the 'Why no OTP?' diagnoses of their own employees, newest first."""
    return [
        DiagnosisOut(**d)
        for d in await diagnosis.of_ddo(ctx, ddo.scope.get("ddo_code", ""), limit, offset, employee_id)
    ]


# ---- master records: the data owners' corrections ----------------------------------------------

master_router = APIRouter(prefix="/master", tags=["master records (data owners)"])


def _owner(officer: Principal) -> str:
    owner = str(officer.scope.get("data_owner") or "")
    if not owner:
        raise ApiError(403, "forbidden", "Your login is not tied to a data owner (HKRN, Treasury or HARTRON).")
    return owner


@master_router.patch("/employees/{employee_id}", response_model=CorrectionOut)
async def correct_record(
    employee_id: str,
    body: Correction,
    request: Request,
    ctx: OtpContext = Depends(context),
    officer: Principal = Depends(require_roles(DATA_OFFICER)),
) -> CorrectionOut:
    """Correct a record your organisation holds; each change is kept with who, when and why."""
    changed = await masterdata.correct(
        ctx,
        employee_id,
        body.changes,
        changed_by=officer.subject,
        data_owner=_owner(officer),
        reason=body.reason,
        certificate_id=body.certificate_id,
        from_addr=client_addr(request),
    )
    return CorrectionOut(employee_id=employee_id, changed=changed)


@master_router.get("/employees/{employee_id}/changes", response_model=list[MasterChange])
async def record_changes(
    employee_id: str, ctx: OtpContext = Depends(context), officer: Principal = Depends(require_roles(DATA_OFFICER))
) -> list[MasterChange]:
    """Every change your organisation made to one record."""
    return [MasterChange(**c) for c in await masterdata.changes_of(ctx, employee_id, _owner(officer))]


@master_router.get("/audit", response_model=list[AuditFinding], tags=["pre-season audit"])
async def master_audit(
    ctx: OtpContext = Depends(context), officer: Principal = Depends(require_roles(DATA_OFFICER, DDO))
) -> list[AuditFinding]:
    """The pre-season audit of the records in your scope (a data officer: your organisation's; a DDO: your
    employees'): each record that would keep its employee from an OTP or a clean application, with the cause,
    who must act and the remedy. `seva audit master-data` adds the checks that need other services' data."""
    return [AuditFinding(**f.as_dict()) for f in await preseason.audit_in_scope(ctx, officer)]


@master_router.get("/correction-requests", response_model=list[CorrectionRequestOut])
async def correction_requests(
    ctx: OtpContext = Depends(context), officer: Principal = Depends(require_roles(DATA_OFFICER))
) -> list[CorrectionRequestOut]:
    """Open requests from verification certificates, for your organisation to correct."""
    return [CorrectionRequestOut(**r) for r in await masterdata.open_requests(ctx, _owner(officer))]


@master_router.get("/record-requests", response_model=list[RecordRequestOut])
async def record_requests(
    ctx: OtpContext = Depends(context), officer: Principal = Depends(require_roles(DATA_OFFICER))
) -> list[RecordRequestOut]:
    """Certificates for people in no government database, for your organisation to add their records."""
    return [RecordRequestOut(**r) for r in await masterdata.open_record_requests(ctx, _owner(officer))]


@master_router.post("/employees", status_code=201, response_model=RecordAdded)
async def add_record(
    body: NewRecord,
    request: Request,
    ctx: OtpContext = Depends(context),
    officer: Principal = Depends(require_roles(DATA_OFFICER)),
) -> RecordAdded:
    """Add the record a verification certificate asked for; the employee's case starts and they get an SMS
    that they can register."""
    record = body.model_dump(exclude={"certificate_id"})
    return RecordAdded(
        **await masterdata.add_record(
            ctx,
            record,
            body.certificate_id,
            added_by=officer.subject,
            data_owner=_owner(officer),
            from_addr=client_addr(request),
        )
    )


@master_router.get("/employees/{employee_id}/record", response_model=Prefill, tags=["officers"])
async def record_for_review(
    employee_id: str = Path(max_length=32),
    ctx: OtpContext = Depends(context),
    officer: Principal = Depends(require_roles(DDO, HOD, ADMIN_SECRETARY)),
) -> Prefill:
    """The service record beside the Family ID of an employee whose application the officer decides, to compare
    with the documents (name, father's name, date of birth)."""
    found = await masterdata.record_for_officer(ctx, officer, employee_id)
    return Prefill(**{**found, "mismatches": [FieldMismatch(**m) for m in found["mismatches"]]})


@master_router.get("/me", response_model=Prefill, tags=["registration by mobile OTP"])
async def my_prefill(
    ctx: OtpContext = Depends(context), employee: Principal = Depends(require_roles(EMPLOYEE))
) -> Prefill:
    """The form's auto-fill from Family ID (PPP), beside the service record, with each mismatch shown."""
    found = await masterdata.prefill(ctx, employee.subject)
    return Prefill(**{**found, "mismatches": [FieldMismatch(**m) for m in found["mismatches"]]})


@master_router.put("/me/sms-language", response_model=LanguageChoice, tags=["registration by mobile OTP"])
async def set_sms_language(
    body: LanguageChoice, ctx: OtpContext = Depends(context), employee: Principal = Depends(require_roles(EMPLOYEE))
) -> LanguageChoice:
    """SMS in Hindi (the default) or English."""
    await masterdata.set_sms_language(ctx, employee.subject, body.language)
    return body
