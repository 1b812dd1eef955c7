from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from services.common.errors import ApiError
from services.common.runtime import ServiceContext, context

from . import service
from .mobile import normalise_mobile
from .schemas import OtpRequest, OtpRequested, OtpVerify, Session, SmsMessage

router = APIRouter(prefix="/otp", tags=["registration by mobile OTP"])
dev_router = APIRouter(prefix="/dev", tags=["dev only"])


@router.post("/request", status_code=202, response_model=OtpRequested)
async def request_otp(body: OtpRequest, ctx: ServiceContext = Depends(context)):
    """Send an OTP to the mobile on the employee's HKRN / Treasury record."""
    mobile = normalise_mobile(body.mobile)
    challenge_id, ttl = await service.request_otp(ctx, mobile)
    return OtpRequested(challenge_id=challenge_id, expires_in_seconds=ttl,
                        message="If this mobile number is on a government service record, an OTP has been sent to it. "
                                "No SMS within a few minutes? Use 'Why no OTP?' to find out why and what to do.")


@router.post("/verify", response_model=Session)
async def verify_otp(body: OtpVerify, ctx: ServiceContext = Depends(context)):
    """Check the code; a right code registers the employee and opens a session."""
    mobile = normalise_mobile(body.mobile)
    employee_id, token = await service.verify_otp(ctx, mobile, body.code)
    return Session(token=token, employee_id=employee_id, expires_in_seconds=ctx.settings.session_ttl_seconds)


@dev_router.get("/sms", response_model=list[SmsMessage])
async def dev_sms(mobile: str = Query(...), ctx: ServiceContext = Depends(context)):
    """Dev only: the messages the dev SMS sink received for a mobile, newest last."""
    if not ctx.settings.is_dev:
        raise ApiError(404, "not_found", "There is no such address on this service.")
    rows = await ctx.pool.fetch(
        "SELECT mobile, template, template_id, body, outcome, handled_at FROM otp.sms_delivery WHERE mobile = $1 "
        "ORDER BY handled_at", normalise_mobile(mobile))
    return [SmsMessage(**{**dict(r), "handled_at": r["handled_at"].isoformat()}) for r in rows]
