"""Escalation and accountability: a pending case whose officer missed the date goes a level up, the
officer below is on record with the days overdue, both are told, and reports show who is behind."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contract import DDO_VERIFICATION, Escalation, EventType
from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.events import publish
from services.common.runtime import VerificationContext
from services.common.scope import officer_ref, report_department

from . import notify


def officer_ref_pattern(officer: Principal) -> str:
    """The officer references (as the case records them) that this login answers for, as a LIKE pattern."""
    ref = officer_ref(officer)
    if not ref:
        raise ApiError(403, "forbidden", "Your role has no officer's desk.")
    return ref


async def escalate(ctx: VerificationContext, esc: Escalation) -> None:
    """Record the escalation, hand a pending DDO task to the level above, and tell both officers. Once only."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        fresh = await conn.fetchval(
            "INSERT INTO verification.escalation (employee_id, step, level, application_no, from_role, from_ref, to_role, "
            "to_ref, deadline, days_overdue, escalated_at, respond_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            esc.employee_id,
            esc.step,
            esc.level,
            esc.application_no,
            esc.from_role,
            esc.from_ref,
            esc.to_role,
            esc.to_ref,
            esc.deadline,
            esc.days_overdue,
            esc.escalated_at,
            esc.respond_by,
        )
        if not fresh:
            return
        # The orders service hears of it too: an escalated Finance or HoD step is acted on there.
        await publish(
            conn,
            "verification",
            EventType.CASE_ESCALATED,
            esc.employee_id,
            {
                "application_no": esc.application_no,
                "step": esc.step,
                "level": esc.level,
                "to_role": esc.to_role,
                "to_ref": esc.to_ref,
                "escalated_at": esc.escalated_at.isoformat(),
            },
        )
        if esc.step == DDO_VERIFICATION and esc.application_no:
            await conn.execute(
                "UPDATE verification.task SET escalation_level = greatest(escalation_level, $2) "
                "WHERE application_no = $1",
                esc.application_no,
                esc.level,
            )
        what = f"application {esc.application_no}" if esc.application_no else f"the case of {esc.employee_id}"
        notes = [
            (
                esc.to_ref,
                "escalated_to_you",
                f"{what} is escalated to you: {esc.from_role} {esc.from_ref} missed the "
                f"{esc.step} deadline. Decide by {esc.respond_by:%d %b %Y}.",
            ),
            (
                esc.from_ref,
                "deadline_missed",
                f"You missed the {esc.step} deadline for {what} "
                f"({esc.days_overdue} days overdue); it is escalated to {esc.to_role}.",
            ),
        ]
        await conn.executemany(
            "INSERT INTO verification.officer_notification (officer_ref, kind, employee_id, application_no, message, "
            "dedupe_key) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedupe_key) DO NOTHING",
            [
                (
                    ref,
                    kind,
                    esc.employee_id,
                    esc.application_no,
                    message,
                    f"{esc.employee_id}/{esc.step}/{esc.level}/{kind}",
                )
                for ref, kind, message in notes
            ],
        )
        # and by SMS / e-mail, each officer in their language
        what_words = (
            f"application {esc.application_no}" if esc.application_no else f"the case of {esc.employee_id}",
            f"आवेदन {esc.application_no}" if esc.application_no else f"कर्मचारी {esc.employee_id} का मामला",
        )
        step_words = notify.STEP_WORDS.get(esc.step, (esc.step, esc.step))
        await notify.tell(
            conn,
            esc.to_ref,
            "officer_escalated_to_you",
            {
                "what": what_words,
                "from_ref": esc.from_ref,
                "step": step_words,
                "respond_by": notify.when(esc.respond_by),
            },
        )
        await notify.tell(
            conn,
            esc.from_ref,
            "officer_deadline_missed",
            {
                "what": what_words,
                "step": step_words,
                "days": str(esc.days_overdue),
                "to_role": notify.ROLE_WORDS.get(esc.to_role, (esc.to_role, esc.to_role)),
            },
        )


async def notifications(ctx: VerificationContext, officer: Principal, limit: int, offset: int) -> list[dict[str, Any]]:
    rows = await ctx.pool.fetch(
        "SELECT officer_ref, kind, employee_id, application_no, message, created_at FROM verification.officer_notification "
        "WHERE officer_ref LIKE $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
        officer_ref_pattern(officer),
        limit,
        offset,
    )
    return [dict(r) for r in rows]


GROUPS = {"department": "department", "district": "district", "ddo": "ddo_code"}


async def report(ctx: VerificationContext, group_by: str, officer: Principal) -> list[dict[str, Any]]:
    """Pending and overdue DDO verifications by department, district or DDO; missed deadlines by officer
    or by stage (every step's misses are recorded here by the cases). A Secretary's report covers their
    own department only; the administrator's, every department."""
    now = datetime.now(UTC)
    department = report_department(officer)
    if group_by in GROUPS:
        col = GROUPS[group_by]
        rows = await ctx.pool.fetch(
            f"SELECT {col} AS key, count(*) FILTER (WHERE status = 'pending') AS pending, "
            f"count(*) FILTER (WHERE status = 'pending' AND due_at < $1) AS overdue, "
            f"count(*) FILTER (WHERE escalation_level > 0) AS escalated, "
            f"coalesce(max(date_part('day', $1 - due_at)) FILTER (WHERE status = 'pending' AND due_at < $1), 0)::int "
            f"AS max_days_overdue FROM verification.task WHERE ($2::text IS NULL OR department = $2) "
            f"GROUP BY {col} ORDER BY overdue DESC, pending DESC, key",
            now,
            department,
        )
    elif group_by in ("officer", "stage"):
        col = "m.officer_ref" if group_by == "officer" else "split_part(m.step, '/', 1)"
        # a missed deadline's department is its case's (the verification task of its application)
        rows = await ctx.pool.fetch(
            f"SELECT {col} AS key, 0 AS pending, count(*) AS overdue, "
            f"count(*) FILTER (WHERE m.step NOT LIKE '%/escalation-%') AS escalated, "
            f"max(date_part('day', $1 - m.deadline))::int AS max_days_overdue FROM verification.missed_deadline m "
            f"LEFT JOIN verification.task t ON t.application_no = m.application_no "
            f"WHERE ($2::text IS NULL OR t.department = $2) GROUP BY {col} ORDER BY overdue DESC, key",
            now,
            department,
        )
    else:
        raise ApiError(422, "invalid_group", "group_by must be one of: stage, department, district, ddo, officer.")
    return [dict(r) for r in rows]
