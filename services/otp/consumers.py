"""The OTP service's Kafka consumers: the SMS gateway adapter, the data owners' corrections, and the
verification certificates that open a correction request. Each is idempotent by event id (the inbox)."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from contract import MASTERDATA_TOPIC, SMS_TOPIC, TOPICS, EventType
from services.common.errors import ApiError
from services.common.events import claim_event
from services.common.kafka import DeadLetter
from services.common.metrics import OTP_EVENTS, SMS_ANSWERS, SMS_SECONDS
from services.common.runtime import Consumer, OtpContext

from .masterdata import apply_correction, open_correction_request, open_record_request
from .sms import SUBJECT, GatewayRefused, _with_code, load_gateway, recorded_params, render

log = logging.getLogger("seva.sms")


# A message recorded with one of these is done with; 'sending' (claimed, not known to be accepted) and 'refused'
# (parked, replayed once the cause is mended) are tried again when the event comes again.
FINAL_OUTCOMES = ("delivered", "dropped_expired", "dropped_no_mobile", "dropped_not_on_record", "dropped_superseded")


def sms_consumer(ctx: OtpContext) -> Consumer:
    """The gateway adapter. Claim, commit, send, record: the message is claimed in otp.sms_delivery ('sending')
    and committed before the gateway is called, never inside a transaction (a commit failing after the gateway
    accepted would send it twice, and a slow gateway would hold a connection); the gateway gets the event id as
    its idempotency key, so a resend after a crash is the same message; the outcome is recorded after. An OTP
    that would arrive after it expires, or whose challenge a newer request has replaced, is not sent: the
    employee would type a code that can only fail and use up one of their tries. A refusal is parked with the
    gateway's reason (GatewayRefused); a gateway down is waited out (services/common/kafka.py)."""
    gateway, mailbox = load_gateway(ctx.settings), load_gateway(ctx.settings, "mail_gateway")

    async def handle(event: dict[str, Any]) -> None:
        data, event_id = event["data"], uuid.UUID(event["event_id"])
        async with ctx.pool.acquire() as conn, conn.transaction():
            prior = await conn.fetchval("SELECT outcome FROM otp.sms_delivery WHERE event_id = $1 FOR UPDATE", event_id)
            if prior in FINAL_OUTCOMES:
                return
            employee = await conn.fetchrow(
                "SELECT mobile, sms_language FROM otp.employee_master WHERE employee_id = $1", event["employee_id"]
            )
            email = data.get("email")  # an officer's e-mail: the same message by the mail gateway
            mobile = None if email else data.get("mobile") or (employee["mobile"] if employee else None)
            language = data.get("language") or (employee["sms_language"] if employee else "hi")
            params, reference = recorded_params(data), data.get("challenge_id") or data.get("confirmation_id")
            template_id, recorded_body = render(data["template"], params, language)
            outcome = await _not_to_send(conn, event, data, mobile, email) or "sending"
            await conn.execute(
                "INSERT INTO otp.sms_delivery (event_id, employee_id, mobile, template, template_id, language, body, "
                "outcome, reference, channel, email, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1) "
                "ON CONFLICT (event_id) DO UPDATE SET outcome = EXCLUDED.outcome, attempts = otp.sms_delivery.attempts "
                "+ 1, handled_at = now()",
                event_id,
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
        if outcome != "sending":
            if outcome != "dropped_not_on_record":
                log.warning("sms %s for %s not sent: %s", event["event_id"], event["employee_id"], outcome)
            return
        text = _with_code(ctx, data, params, language)
        template = str(data["template"])  # one of the registered templates (render refused any other)
        asked = time.perf_counter()
        try:
            if email:
                await mailbox.send(email, SUBJECT[language], text)
            else:
                await gateway.send(mobile, template_id, text, key=event["event_id"])
        except GatewayRefused as refused:
            SMS_ANSWERS.labels(template, "refused").inc()
            await ctx.pool.execute(
                "UPDATE otp.sms_delivery SET outcome = 'refused', refusal = $2, handled_at = now() WHERE event_id = $1",
                event_id,
                refused.gateway_reason,
            )
            raise
        except Exception:
            SMS_ANSWERS.labels(template, "error").inc()  # no answer, or one not understood: the consumer retries
            raise
        finally:
            if not email:
                SMS_SECONDS.observe(time.perf_counter() - asked)
        await ctx.pool.execute(
            "UPDATE otp.sms_delivery SET outcome = 'delivered', refusal = NULL, handled_at = now() WHERE event_id = $1",
            event_id,
        )
        SMS_ANSWERS.labels(template, "delivered").inc()
        if template == "otp":
            OTP_EVENTS.labels("delivered").inc()

    return [SMS_TOPIC], handle


async def _not_to_send(
    conn: asyncpg.Connection, event: dict[str, Any], data: dict[str, Any], mobile: str | None, email: str | None
) -> str | None:
    """Why this message is not to go out at all, or None."""
    if data["template"] == "otp" and not event["employee_id"]:
        return "dropped_not_on_record"  # asked for a number on no service record: nothing sent
    if email:
        return None
    if mobile is None:
        return "dropped_no_mobile"
    expires_at = data.get("expires_at")
    if expires_at and datetime.fromisoformat(expires_at) <= datetime.now(UTC):
        return "dropped_expired"
    if data["template"] == "otp" and data.get("challenge_id"):
        status = await conn.fetchval(
            "SELECT status FROM otp.otp_challenge WHERE challenge_id = $1", uuid.UUID(data["challenge_id"])
        )
        if status is not None and status != "active":
            return "dropped_superseded"  # a newer request replaced it (or it was used, or its tries spent)
    return None


def corrections_consumer(ctx: OtpContext) -> Consumer:
    """Data owners' corrections pushed as Kafka events; applied once per event id."""

    async def handle(event: dict[str, Any]) -> None:
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
            raise DeadLetter(f"{err.code}: {err.message}", reason="correction_refused") from err

    return [MASTERDATA_TOPIC], handle


def certificates_consumer(ctx: OtpContext) -> Consumer:
    """A verification certificate (from the verification service) opens a correction request for the owner; one
    for a person in no database opens a request to add their record."""

    async def handle(event: dict[str, Any]) -> None:
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
