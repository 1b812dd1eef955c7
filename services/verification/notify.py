"""Officers are told, not only listed: each escalation and each day's pending work goes to the officers it
concerns by SMS, and by e-mail where their record has one, in their language. The messages go through this
service's outbox to sms.outbound (the OTP service's gateway adapter sends them), in the same transaction as what
they report, so a notice is never lost nor sent for something that did not happen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from contract import DDO_VERIFICATION, IST, ORDER_ISSUE, POST_CREATION, SMS_TOPIC
from services.common.events import envelope, write_event

STEP_WORDS = {
    DDO_VERIFICATION: ("DDO verification", "डीडीओ सत्यापन"),
    POST_CREATION: ("supernumerary post creation", "अधिसंख्य पद सृजन"),
    ORDER_ISSUE: ("order issue", "आदेश जारी करने"),
}
ROLE_WORDS = {
    "hod": ("the Head of Department", "विभागाध्यक्ष"),
    "admin_secretary": ("the Administrative Secretary", "प्रशासनिक सचिव"),
    "finance": ("Finance", "वित्त विभाग"),
}


def _officers_sql(ref: str) -> tuple[str, list[Any]]:
    """The officers a case's reference names (`hod:HEALTH`, `as:FINANCE`, `finance:<department>`, a DDO code)."""
    kind, _, department = ref.partition(":")
    if kind == "hod" and department:
        return "role = 'hod' AND department = $1", [department]
    if kind == "as" and department:
        return "role = 'admin_secretary' AND department = $1", [department]
    if kind == "finance":
        return "role = 'finance'", []
    return "role = 'ddo' AND ddo_code = $1", [ref]


async def tell(conn: asyncpg.Connection, ref: str, template: str, params: dict[str, tuple[str, str] | str]) -> int:
    """Queue `template` to every active officer under `ref` with a mobile or e-mail on record, each in their own
    language (a parameter given as (English, Hindi) is chosen per officer). Returns the messages queued."""
    where, args = _officers_sql(ref)
    officers = await conn.fetch(
        f"SELECT officer_id, mobile, email, language FROM verification.officer WHERE active AND {where}", *args
    )
    queued = 0
    for officer in officers:
        hindi = officer["language"] == "hi"
        words = {k: (v[1] if hindi else v[0]) if isinstance(v, tuple) else v for k, v in params.items()}
        for channel in ("mobile", "email"):
            if officer[channel]:
                data = {"template": template, "params": words, "language": officer["language"]}
                data[channel] = officer[channel]
                event = envelope("sms.requested", "verification", f"officer:{officer['officer_id']}", data)
                await write_event(conn, "verification", SMS_TOPIC, event)
                queued += 1
    return queued


def when(moment: datetime) -> str:
    return f"{moment.astimezone(IST):%d-%m-%Y}"


async def pending_digest(conn: asyncpg.Connection, now: datetime) -> int:
    """Once a day: every desk with verifications waiting (the DDO's, or the HoD's / Secretary's once escalated) is
    told how many, how many overdue and the earliest due date. Once per desk per day, however often it runs
    (kept as a notification with the day in its key). Returns the desks told."""
    day = f"{now.astimezone(IST):%Y-%m-%d}"
    desks = await conn.fetch(
        "SELECT CASE escalation_level WHEN 0 THEN ddo_code WHEN 1 THEN 'hod:' || department "
        "ELSE 'as:' || department END AS ref, count(*) AS n, count(*) FILTER (WHERE due_at < $1) AS overdue, "
        "min(due_at) AS earliest FROM verification.task WHERE status = 'pending' GROUP BY 1 ORDER BY 1",
        now,
    )
    told = 0
    for desk in desks:
        message = (
            f"{desk['n']} verifications await you, {desk['overdue']} overdue; earliest due {when(desk['earliest'])}"
        )
        fresh = await conn.fetchval(
            "INSERT INTO verification.officer_notification (officer_ref, kind, employee_id, message, dedupe_key) "
            "VALUES ($1, 'pending_work', '', $2, $3) ON CONFLICT (dedupe_key) DO NOTHING RETURNING 1",
            desk["ref"],
            message,
            f"pending/{desk['ref']}/{day}",
        )
        if fresh:
            await tell(
                conn,
                desk["ref"],
                "officer_pending_work",
                {"count": str(desk["n"]), "overdue": str(desk["overdue"]), "due": when(desk["earliest"])},
            )
            told += 1
    return told
