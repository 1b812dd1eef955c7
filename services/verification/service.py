"""DDO verification: each DDO decides only the applications in their own queue."""

from __future__ import annotations

from typing import Any

from contract import EventType
from services.common import audit
from services.common.auth import ADMIN_SECRETARY, DDO, HOD, Principal
from services.common.errors import ApiError
from services.common.events import publish
from services.common.runtime import VerificationContext
from services.common.scope import covers

from .schemas import Decision


def may_decide(officer: Principal, task: Any) -> bool:
    """The DDO of the task's code; once escalated, the department's HoD (level 1) or Secretary (level 2)."""
    level_needed = {DDO: 0, HOD: 1, ADMIN_SECRETARY: 2}.get(officer.role)
    return (
        level_needed is not None
        and task["escalation_level"] >= level_needed
        and covers(officer, ddo_code=task["ddo_code"], department=task["department"])
    )


async def queue(
    ctx: VerificationContext, officer: Principal, status: str, department: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """The officer's own queue, a page of it and how many there are in all: a DDO's by DDO code; an HoD's or
    Secretary's, the cases escalated to them."""
    if officer.role == DDO:
        where, arg = "ddo_code = $1", officer.scope.get("ddo_code")
    else:
        level = 1 if officer.role == HOD else 2
        where, arg = f"department = $1 AND escalation_level >= {level}", officer.scope.get("department")
    rows = await ctx.pool.fetch(
        "SELECT application_no, employee_id, department, district, due_at, status, escalation_level, round, "
        "superannuation_on, take_first "
        f"FROM verification.task WHERE {where} AND status = $2 AND ($3::text IS NULL OR department = $3) "
        "ORDER BY take_first DESC, due_at, application_no LIMIT $4 OFFSET $5",
        arg,
        status,
        department,
        limit,
        offset,
    )
    total = await ctx.pool.fetchval(
        f"SELECT count(*) FROM verification.task WHERE {where} AND status = $2 AND ($3::text IS NULL OR department = $3)",
        arg,
        status,
        department,
    )
    return [dict(r) for r in rows], int(total)


async def decide(
    ctx: VerificationContext, ddo: Principal, application_no: str, decision: Decision, from_addr: str | None = None
) -> dict[str, Any]:
    if decision.decision == "rejected" and not decision.reasons:
        raise ApiError(422, "reasons_required", "A rejection must give at least one reason code.")
    if decision.decision == "returned" and not decision.remarks:
        raise ApiError(
            422,
            "remarks_required",
            "A return must say, field by field or document by document, what the employee has to correct.",
        )
    async with ctx.pool.acquire() as conn, conn.transaction():
        task = await conn.fetchrow(
            "SELECT * FROM verification.task WHERE application_no = $1 FOR UPDATE", application_no
        )
        if task is None or not may_decide(ddo, task):
            raise ApiError(404, "application_not_in_queue", f"Application {application_no} is not in your queue.")
        if task["status"] == "closed":
            raise ApiError(
                409, "case_closed", f"The case of {application_no} is closed without an order: {task['closed_reason']}."
            )
        if task["status"] != "pending":
            if task["status"] == decision.decision:  # the same decision again: answered as before
                return {"application_no": application_no, "status": task["status"], "decided_at": task["decided_at"]}
            raise ApiError(409, "already_decided", f"Application {application_no} was already {task['status']}.")
        decided_at = await conn.fetchval(
            "UPDATE verification.task SET status = $2, decided_by = $3, decided_at = now(), reasons = $4, remarks = $5 "
            "WHERE application_no = $1 RETURNING decided_at",
            application_no,
            decision.decision,
            ddo.subject,
            decision.reasons,
            decision.remarks,
        )
        await conn.execute(
            "INSERT INTO verification.decision (application_no, round, decision, reasons, remarks, "
            "decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            application_no,
            task["round"],
            decision.decision,
            decision.reasons,
            decision.remarks,
            ddo.subject,
            decided_at,
        )
        await publish(
            conn,
            "verification",
            EventType.VERIFICATION_DECIDED,
            task["employee_id"],
            {
                "application_no": application_no,
                "decision": decision.decision,
                "reasons": decision.reasons,
                "remarks": decision.remarks,
                "round": task["round"],
                "decided_by": ddo.subject,
            },
        )
        await audit.append(
            conn,
            "verification",
            ddo,
            f"verification.{decision.decision}",
            application_no,
            from_addr=from_addr,
            before=task["status"],
            after=decision.decision,
            details={"reasons": decision.reasons, "remarks": decision.remarks, "round": task["round"]},
        )
    return {"application_no": application_no, "status": decision.decision, "decided_at": decided_at}
