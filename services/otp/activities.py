"""Activities the case workflow runs in the OTP service's process (task queue `otp`)."""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from contract import Activities, ServiceRecord, SmsRequest
from services.common.events import stable_event_id
from services.common.runtime import OtpContext

from .sms import request_sms


def activities(ctx: OtpContext) -> list[Any]:
    @activity.defn(name=Activities.SEND_SMS.name)
    async def send_sms(req: SmsRequest) -> None:
        """Queue an SMS for the gateway adapter; a retry writes the same event (same id), never a second SMS."""
        event_id = stable_event_id(
            "sms", req.dedupe_key or f"{activity.info().workflow_id}{activity.info().activity_id}"
        )
        async with ctx.pool.acquire() as conn, conn.transaction():
            await request_sms(conn, req.employee_id, req.template, req.params, event_id=event_id)

    @activity.defn(name=Activities.GET_SERVICE_RECORD.name)
    async def get_service_record(employee_id: str) -> ServiceRecord:
        """The facts of the master record that eligibility is decided on."""
        r = await ctx.pool.fetchrow(
            "SELECT employee_id, employee_group, date_of_birth, date_of_joining, service_periods, sanctioned_post, "
            "pay_head, post_code, status, name, father_name FROM otp.employee_master WHERE employee_id = $1",
            employee_id,
        )
        if r is None:
            raise ApplicationError(f"no master record for {employee_id}", non_retryable=True)
        return ServiceRecord(
            **{
                **dict(r),
                "date_of_birth": r["date_of_birth"].isoformat(),
                "date_of_joining": r["date_of_joining"].isoformat(),
            }
        )

    return [send_sms, get_service_record]
