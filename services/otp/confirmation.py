"""Before the season opens, every employee on an active record is asked by SMS whether the number on their record
is theirs: a link to a one-tap page on the portal ("yes, mine" / "not mine"). It tests the one thing an OTP needs,
that an SMS to the number on record reaches its employee, which the Family ID registry can only guess at (some
families gave it no mobile, some another member's). The pre-season audit reads the answers
(services/otp/preseason.py): a confirmed number is not flagged whatever the registry says; "not mine", or no
answer where the registry cannot vouch for the number, is. Like an OTP, the link's code is derived from the
confirmation id with the OTP key (codes.confirmation_code): tables and events hold only the id."""

from __future__ import annotations

import uuid
from typing import Any

from services.common.errors import ApiError
from services.common.runtime import OtpContext

from .codes import is_confirmation_code
from .mobile import mask_mobile
from .sms import request_sms

TEMPLATE = "mobile_confirmation"


async def ask(conn: Any, portal_url: str, data_owner: str | None = None, ddo_code: str | None = None) -> int:
    """Ask every active record in scope (a data owner's, a DDO's, or all) not yet asked about its current number;
    the questions and their SMS in one transaction (a re-run asks only the records added or corrected since)."""
    async with conn.transaction():
        rows = await conn.fetch(
            "INSERT INTO otp.mobile_confirmation (confirmation_id, employee_id, mobile) "
            "SELECT gen_random_uuid(), m.employee_id, m.mobile FROM otp.employee_master m "
            "WHERE m.status = 'active' AND ($1::text IS NULL OR m.data_owner = $1) "
            "AND ($2::text IS NULL OR m.ddo_code = $2) "
            "ON CONFLICT (employee_id, mobile) DO NOTHING RETURNING confirmation_id, employee_id, mobile",
            data_owner,
            ddo_code,
        )
        for r in rows:
            await _send(conn, r, portal_url, event_id=str(r["confirmation_id"]))
    return len(rows)


async def remind(
    conn: Any, portal_url: str, after_hours: float, data_owner: str | None = None, ddo_code: str | None = None
) -> int:
    """Send the same question again (the same link) to every number in scope still on its record that has not
    answered in `after_hours` since it was last asked; the questions and their SMS in one transaction."""
    async with conn.transaction():
        rows = await conn.fetch(
            "UPDATE otp.mobile_confirmation c SET reminders = c.reminders + 1, reminded_at = now() "
            "FROM otp.employee_master m WHERE m.employee_id = c.employee_id AND m.mobile = c.mobile "
            "AND m.status = 'active' AND c.answer IS NULL "
            "AND coalesce(c.reminded_at, c.asked_at) <= now() - make_interval(secs => $3 * 3600) "
            "AND ($1::text IS NULL OR m.data_owner = $1) AND ($2::text IS NULL OR m.ddo_code = $2) "
            "RETURNING c.confirmation_id, c.employee_id, c.mobile, c.reminders",
            data_owner,
            ddo_code,
            float(after_hours),
        )
        for r in rows:
            await _send(
                conn, r, portal_url, event_id=str(uuid.uuid5(r["confirmation_id"], f"reminder-{r['reminders']}"))
            )
    return len(rows)


async def _send(conn: Any, row: Any, portal_url: str, event_id: str) -> None:
    await request_sms(
        conn,
        row["employee_id"],
        TEMPLATE,
        {"portal": portal_url.rstrip("/")},
        event_id=event_id,
        mobile=row["mobile"],  # the number asked about, even if the record changes before it is sent
        confirmation_id=str(row["confirmation_id"]),
    )


async def ask_in(
    database_url: str,
    portal_url: str,
    data_owner: str | None = None,
    ddo_code: str | None = None,
    remind_after_hours: float | None = None,
) -> int:
    """`ask` (or, with `remind_after_hours`, `remind`) on its own connection (`seva audit confirm-mobiles`, the
    simulator), with the services' JSON codecs: the questions' SMS go to the outbox."""
    from services.common.db import create_pool

    pool = await create_pool(database_url)
    try:
        async with pool.acquire() as conn:
            if remind_after_hours is not None:
                return await remind(conn, portal_url, remind_after_hours, data_owner, ddo_code)
            return await ask(conn, portal_url, data_owner, ddo_code)
    finally:
        await pool.close()


async def _question(conn: Any, key: str, confirmation_id: str, code: str, lock: bool = False) -> Any:
    try:
        cid = uuid.UUID(confirmation_id)
    except ValueError:
        cid = None
    select = "SELECT * FROM otp.mobile_confirmation WHERE confirmation_id = $1" + (" FOR UPDATE" if lock else "")
    row = await conn.fetchrow(select, cid) if cid else None
    if row is None or cid is None or not is_confirmation_code(key, cid, code):  # one answer for both: nothing to probe
        raise ApiError(404, "confirmation_not_found", "This link is not valid. Check that it is the whole link.")
    return row


async def look(ctx: OtpContext, confirmation_id: str, code: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        row = await _question(conn, ctx.settings.otp_hmac_key, confirmation_id, code)
    return {"masked_mobile": mask_mobile(row["mobile"]), "answer": row["answer"]}


async def answer(ctx: OtpContext, confirmation_id: str, code: str, given: str) -> dict[str, Any]:
    """The first answer stands (the same answer again changes nothing); a different one later is refused: the
    owner of a number and a stranger cannot both hold the phone the link went to."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await _question(conn, ctx.settings.otp_hmac_key, confirmation_id, code, lock=True)  # two taps at once
        if row["answer"] is None:
            await conn.execute(
                "UPDATE otp.mobile_confirmation SET answer = $2, answered_at = now() WHERE confirmation_id = $1",
                row["confirmation_id"],
                given,
            )
        elif row["answer"] != given:
            raise ApiError(
                409,
                "already_answered",
                "This number was already answered for. If that answer was wrong, tell your DDO.",
            )
    return {"masked_mobile": mask_mobile(row["mobile"]), "answer": given}
