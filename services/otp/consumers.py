"""The OTP service's Kafka consumers: the SMS gateway adapter, the data owners' corrections, and the
verification certificates that open a correction request. Each is idempotent by event id (the inbox)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from contract import MASTERDATA_TOPIC, SMS_TOPIC, TOPICS, EventType
from services.common.errors import ApiError
from services.common.events import claim_event
from services.common.kafka import DeadLetter
from services.common.runtime import ServiceContext

from .masterdata import apply_correction, open_correction_request, open_record_request
from .sms import SUBJECT, _with_code, load_gateway, recorded_params, render

log = logging.getLogger("seva.sms")


def sms_consumer(ctx: ServiceContext):
    """The gateway adapter: idempotent by event id; an OTP that would arrive after it expires is dropped."""
    gateway, mailbox = load_gateway(ctx.settings), load_gateway(ctx.settings, "mail_gateway")

    async def handle(event: dict) -> None:
        data = event["data"]
        async with ctx.pool.acquire() as conn, conn.transaction():
            if not await claim_event(conn, "otp", "sms-gateway", event["event_id"]):
                return
            employee = await conn.fetchrow(
                "SELECT mobile, sms_language FROM otp.employee_master WHERE employee_id = $1", event["employee_id"]
            )
            email = data.get("email")  # an officer's e-mail: the same message by the mail gateway
            mobile = None if email else data.get("mobile") or (employee["mobile"] if employee else None)
            language = data.get("language") or (employee["sms_language"] if employee else "hi")
            params, reference = recorded_params(data), data.get("challenge_id") or data.get("confirmation_id")
            template_id, recorded_body = render(data["template"], params, language)
            expires_at = data.get("expires_at")
            if data["template"] == "otp" and not event["employee_id"]:
                outcome = "dropped_not_on_record"  # asked for a number on no service record: nothing sent
            elif email:
                if not await mailbox.send(email, SUBJECT[language], _with_code(ctx, data, params, language)):
                    raise RuntimeError("the mail gateway did not accept the message")
                outcome = "delivered"
            elif mobile is None:
                outcome = "dropped_no_mobile"
            elif expires_at and datetime.fromisoformat(expires_at) <= datetime.now(UTC):
                outcome = "dropped_expired"
            elif await gateway.send(mobile, template_id, _with_code(ctx, data, params, language)):
                outcome = "delivered"
            else:
                raise RuntimeError("the SMS gateway did not accept the message")  # retried, then dead-lettered
            await conn.execute(
                "INSERT INTO otp.sms_delivery (event_id, employee_id, mobile, template, template_id, language, body, "
                "outcome, reference, channel, email) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                uuid.UUID(event["event_id"]),
                event["employee_id"],
                mobile,
                data["template"],
                template_id,
                language,
                recorded_body,
                outcome,
                reference,
                "email" if email else "sms",
                email,
            )
            if outcome not in ("delivered", "dropped_not_on_record"):
                log.warning("sms %s for %s not sent: %s", event["event_id"], event["employee_id"], outcome)

    return [SMS_TOPIC], handle


def corrections_consumer(ctx: ServiceContext):
    """Data owners' corrections pushed as Kafka events; applied once per event id."""

    async def handle(event: dict) -> None:
        data = event.get("data", {})
        try:
            async with ctx.pool.acquire() as conn, conn.transaction():
                if not await claim_event(conn, "otp", "masterdata-corrections", event["event_id"]):
                    return
                await apply_correction(
                    conn,
                    event["employee_id"],
                    data.get("changes", {}),
                    changed_by=data.get("changed_by", "unknown"),
                    data_owner=data.get("data_owner", ""),
                    source="kafka",
                    reason=data.get("reason", ""),
                    certificate_id=data.get("certificate_id"),
                )
        except ApiError as err:
            raise DeadLetter(f"{err.code}: {err.message}") from err

    return [MASTERDATA_TOPIC], handle


def certificates_consumer(ctx: ServiceContext):
    """A verification certificate (from the verification service) opens a correction request for the owner; one
    for a person in no database opens a request to add their record."""

    async def handle(event: dict) -> None:
        if event.get("type") not in ("certificate.issued", EventType.NEW_RECORD_CERTIFIED):
            return
        data = event["data"]
        async with ctx.pool.acquire() as conn, conn.transaction():
            if not await claim_event(conn, "otp", "certificates", event["event_id"]):
                return
            if event["type"] == EventType.NEW_RECORD_CERTIFIED:
                await open_record_request(conn, data["certificate_id"], data)
            else:
                await open_correction_request(
                    conn, data["certificate_id"], event["employee_id"], data["issued_by"], data.get("remarks", "")
                )

    return [TOPICS["verification"]], handle
