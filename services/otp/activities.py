"""Activities the case workflow runs in the OTP service's process (task queue `otp`)."""
from __future__ import annotations

from temporalio import activity

from services.common.events import SMS_TOPIC, envelope, stable_event_id, write_event
from services.common.runtime import ServiceContext
from workflows.contracts import SmsRequest


def activities(ctx: ServiceContext) -> list:
    @activity.defn(name="send_sms")
    async def send_sms(req: SmsRequest) -> None:
        """Queue an SMS for the gateway adapter; a retry writes the same event (same id), never a second SMS."""
        event_id = stable_event_id("sms", req.dedupe_key or activity.info().workflow_id + activity.info().activity_id)
        async with ctx.pool.acquire() as conn, conn.transaction():
            await write_event(conn, "otp", SMS_TOPIC, envelope(
                "sms.requested", "otp", req.employee_id, {"template": req.template, "params": req.params},
                event_id=event_id))

    return [send_sms]
