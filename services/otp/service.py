"""Mobile OTP: issue a code for the mobile on record, verify it, open a session.

No code is stored (codes.py derives it from the challenge id). A number not on record gets a challenge of
its own with no employee and no SMS, so that both endpoints give the same answers, through the same
statements, whether or not the number is on record; "Why no OTP?" is where an employee learns the cause."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from contract import IST, EventType
from services.common.errors import ApiError
from services.common.events import publish
from services.common.metrics import OTP_EVENTS
from services.common.runtime import OtpContext
from services.common.sessions import sign_session, signing_key
from services.common.settings import OtpSettings

from .codes import is_right
from .sms import request_sms

MAX_FAILED_TRIES = 5


async def _check_limits(
    conn: asyncpg.Connection, settings: OtpSettings, mobile: str, client_addr: str, now: datetime
) -> None:
    """The same limits for every number, on record or not; counted in PostgreSQL so that every
    replica of the service sees them (an in-process limiter would not)."""
    locked_until = await conn.fetchval("SELECT locked_until FROM otp.mobile_lockout WHERE mobile = $1", mobile)
    if locked_until and locked_until > now:
        raise ApiError(
            429,
            "mobile_locked",
            f"Too many wrong codes were entered for this number. OTPs can be "
            f"requested again after {locked_until.astimezone(IST):%d %b %Y %H:%M} IST.",
            retry_after_seconds=int((locked_until - now).total_seconds()) + 1,
        )
    hour, day = settings.limit_period(3600), settings.limit_period(86400)
    counts = await conn.fetchrow(
        "SELECT max(requested_at) FILTER (WHERE mobile = $1) AS last, "
        "count(*) FILTER (WHERE mobile = $1 AND requested_at > $3::timestamptz - $4::interval) AS hour, "
        "count(*) FILTER (WHERE mobile = $1) AS day, "
        "count(*) FILTER (WHERE client_addr = $2 AND requested_at > $3::timestamptz - $4::interval) AS client_hour "
        "FROM otp.send_log WHERE (mobile = $1 OR client_addr = $2) AND requested_at > $3::timestamptz - $5::interval",
        mobile,
        client_addr,
        now,
        hour,
        day,
    )
    gap = settings.limit_period(settings.otp_resend_gap_seconds)
    if counts["last"] is not None and now - counts["last"] < gap:
        wait = int((gap - (now - counts["last"])).total_seconds()) + 1
        raise ApiError(
            429,
            "otp_resend_too_soon",
            f"An OTP was sent less than a minute ago; try again in {wait} seconds.",
            retry_after_seconds=wait,
        )
    if counts["hour"] >= settings.otp_max_per_mobile_hour:
        raise ApiError(
            429,
            "otp_hourly_limit",
            f"At most {settings.otp_max_per_mobile_hour} OTPs can be sent to a number in an hour; try again later.",
            retry_after_seconds=_seconds(hour),
        )
    if counts["day"] >= settings.otp_max_per_mobile_day:
        raise ApiError(
            429,
            "otp_daily_limit",
            f"At most {settings.otp_max_per_mobile_day} OTPs can be sent to a number in a day; try again tomorrow.",
            retry_after_seconds=_seconds(day),
        )
    if counts["client_hour"] >= settings.otp_max_per_client_hour:
        raise ApiError(
            429,
            "client_limit",
            "Too many OTP requests have come from your network in the last hour; try again later.",
            retry_after_seconds=_seconds(hour),
        )


def _seconds(period: timedelta) -> int:
    return max(1, round(period.total_seconds()))


async def request_otp(ctx: OtpContext, mobile: str, client_addr: str) -> tuple[str, int]:
    ttl = ctx.settings.otp_ttl_seconds
    challenge_id = uuid.uuid4()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('otp:' || $1))", mobile)
        now = datetime.now(UTC)
        await _check_limits(conn, ctx.settings, mobile, client_addr, now)
        await conn.execute(
            "INSERT INTO otp.send_log (mobile, client_addr, requested_at) VALUES ($1, $2, $3)", mobile, client_addr, now
        )
        employee_id = await conn.fetchval(
            "SELECT employee_id FROM otp.employee_master WHERE mobile = $1 AND status = 'active' "
            "ORDER BY employee_id LIMIT 1",
            mobile,
        )
        expires_at = now + timedelta(seconds=ttl)
        await conn.execute(
            "UPDATE otp.otp_challenge SET status = 'replaced' WHERE mobile = $1 AND status = 'active'", mobile
        )
        await conn.execute(
            "INSERT INTO otp.otp_challenge (challenge_id, mobile, employee_id, created_at, expires_at) "
            "VALUES ($1, $2, $3, $4, $5)",
            challenge_id,
            mobile,
            employee_id,
            now,
            expires_at,
        )
        # The event names the challenge; the SMS adapter derives the code from it on its way to the gateway.
        # A number not on record gets the same event with no employee, which the adapter records and drops:
        # the same work on both paths, so that not even the time to answer tells the two apart.
        await request_sms(
            conn,
            employee_id or "",
            "otp",
            {"minutes": ttl // 60},
            mobile=mobile,
            challenge_id=str(challenge_id),
            expires_at=expires_at.isoformat(),
        )
    OTP_EVENTS.labels("requested").inc()  # after the commit: a request rolled back was not one
    return str(challenge_id), ttl


async def verify_otp(ctx: OtpContext, mobile: str, code: str) -> tuple[str, str]:
    async with ctx.pool.acquire() as conn:
        async with conn.transaction():
            row = await conn.fetchrow(
                "SELECT challenge_id, employee_id, expires_at, failed_tries, status FROM otp.otp_challenge "
                "WHERE mobile = $1 ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
                mobile,
            )
            if row is None or row["status"] in ("used", "replaced"):
                raise ApiError(
                    400, "otp_invalid", "This code is not valid. Request a new OTP and enter the latest code."
                )
            if row["status"] == "exhausted":
                raise ApiError(400, "otp_attempts_exhausted", "Too many wrong codes were entered. Request a new OTP.")
            if row["expires_at"] <= datetime.now(UTC):
                raise ApiError(
                    400,
                    "otp_expired",
                    "This OTP has expired. Request a new one; each code is valid for "
                    f"{ctx.settings.otp_ttl_seconds // 60} minutes.",
                )
            # A number not on record has a challenge with no employee: no code is right for it.
            right = is_right(ctx.settings.otp_hmac_key, row["challenge_id"], code) and row["employee_id"] is not None
            if right:
                await conn.execute(
                    "UPDATE otp.otp_challenge SET status = 'used' WHERE challenge_id = $1", row["challenge_id"]
                )
                employee_id = row["employee_id"]
                await publish(
                    conn, "otp", EventType.OTP_VERIFIED, employee_id, {"challenge_id": str(row["challenge_id"])}
                )
            else:
                tries = row["failed_tries"] + 1
                await conn.execute(
                    "UPDATE otp.otp_challenge SET failed_tries = $2, status = $3 WHERE challenge_id = $1",
                    row["challenge_id"],
                    tries,
                    "exhausted" if tries >= MAX_FAILED_TRIES else "active",
                )
                if tries >= MAX_FAILED_TRIES:
                    await _lock_if_repeated(conn, ctx.settings, mobile)
        # The wrong try is committed before it is reported.
        if not right:
            left = MAX_FAILED_TRIES - tries
            if left == 0:
                raise ApiError(400, "otp_attempts_exhausted", "Too many wrong codes were entered. Request a new OTP.")
            raise ApiError(
                400, "otp_invalid", f"The code is wrong. You have {left} more tries for this code.", tries_left=left
            )
    token = sign_session(signing_key(ctx.settings.session_signing_key), employee_id, ctx.settings.session_ttl_seconds)
    OTP_EVENTS.labels("verified").inc()
    return employee_id, token


async def _lock_if_repeated(conn: asyncpg.Connection, settings: OtpSettings, mobile: str) -> None:
    """Several codes used up by wrong tries within a day lock the number for a while."""
    exhausted = await conn.fetchval(
        "SELECT count(*) FROM otp.otp_challenge WHERE mobile = $1 AND status = 'exhausted' "
        "AND created_at > now() - $2::interval",
        mobile,
        settings.limit_period(86400),
    )
    if exhausted >= settings.otp_lockout_after_exhausted:
        await conn.execute(
            "INSERT INTO otp.mobile_lockout (mobile, locked_until, reason) VALUES ($1, now() + $2::interval, $3) "
            "ON CONFLICT (mobile) DO UPDATE SET locked_until = excluded.locked_until, reason = excluded.reason",
            mobile,
            settings.limit_period(settings.otp_lockout_hours * 3600),
            f"{exhausted} codes used up by wrong tries within a day",
        )
