"""The case's steps in the orders service, up to the order: Finance's supernumerary post and the HoD's approval.
What may happen to an order once issued (checked by anyone, downloaded, withdrawn) and paper orders declared
void live in order_acts.py; the order itself is issued by the case (activities.py)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from contract import ORDER_ISSUE, POST_CREATION, EventType
from services.common import audit
from services.common.auth import ADMIN_SECRETARY, FINANCE, HOD, Principal
from services.common.errors import ApiError
from services.common.events import publish
from services.common.runtime import OrdersContext
from services.common.scope import covers, officer_ref, report_department


def secretary_ref(officer: Principal) -> str:
    return officer_ref(officer)


async def _escalated_to(conn: asyncpg.Connection, officer: Principal, application_no: str, step: str) -> bool:
    """Whether this step of this case has been escalated to this Administrative Secretary."""
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM orders.escalation WHERE application_no = $1 AND step = $2 AND to_ref = $3",
            application_no,
            step,
            secretary_ref(officer),
        )
    )


async def create_posts(
    ctx: OrdersContext, finance: Principal, application_nos: list[str], from_addr: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Create a post for each verified case in the batch; a case that already has one keeps it."""
    batch_id = uuid.uuid4()
    created = []
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO orders.post_batch (batch_id, created_by) VALUES ($1, $2)", batch_id, finance.subject
        )
        for application_no in dict.fromkeys(application_nos):
            req = await conn.fetchrow(
                "SELECT * FROM orders.case_request WHERE application_no = $1 FOR UPDATE", application_no
            )
            if req is None:
                raise ApiError(
                    404,
                    "case_not_awaiting_post",
                    f"Application {application_no} is not verified and waiting for a post.",
                )
            if finance.role != FINANCE and not await _escalated_to(conn, finance, application_no, POST_CREATION):
                raise ApiError(
                    403,
                    "not_escalated_to_you",
                    f"The post for {application_no} is Finance's to create; it has not been escalated to you.",
                )
            post = await conn.fetchrow(
                "SELECT post_id, created_at FROM orders.supernumerary_post WHERE application_no = $1", application_no
            )
            if post is None:
                seq = await conn.fetchval("SELECT nextval('orders.post_seq')")
                post_id = f"SNP-{req['department']}-{seq:06d}"
                post = await conn.fetchrow(
                    "INSERT INTO orders.supernumerary_post (post_id, application_no, employee_id, department, post_code, "
                    "batch_id, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING post_id, created_at",
                    post_id,
                    application_no,
                    req["employee_id"],
                    req["department"],
                    req["post_code"],
                    batch_id,
                    finance.subject,
                )
                await publish(
                    conn,
                    "orders",
                    EventType.POST_CREATED,
                    req["employee_id"],
                    {"application_no": application_no, "post_id": post_id, "batch_id": str(batch_id)},
                )
                await audit.append(
                    conn,
                    "orders",
                    finance,
                    "post.create",
                    application_no,
                    from_addr=from_addr,
                    before="awaiting_post_creation",
                    after="post_created",
                    details={"post_id": post_id, "batch_id": str(batch_id)},
                )
            created.append({"application_no": application_no, **dict(post)})
        await conn.execute(
            "UPDATE orders.post_batch SET posts = (SELECT count(*) FROM orders.supernumerary_post "
            "WHERE batch_id = $1) WHERE batch_id = $1",
            batch_id,
        )
    return str(batch_id), created


async def awaiting_posts(
    ctx: OrdersContext, department: str | None, post_code: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Verified, eligible cases still without a supernumerary post, earliest deadline first."""
    rows = await ctx.pool.fetch(
        "SELECT r.application_no, r.employee_id, r.department, r.district, r.post_code, r.post_due_at "
        "FROM orders.case_request r LEFT JOIN orders.supernumerary_post p USING (application_no) "
        "WHERE p.post_id IS NULL AND r.closed_at IS NULL AND ($1::text IS NULL OR r.department = $1) AND ($2::text IS NULL OR r.post_code = $2) "
        "ORDER BY r.post_due_at, r.application_no LIMIT $3 OFFSET $4",
        department,
        post_code,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def awaiting_approval(ctx: OrdersContext, officer: Principal, limit: int, offset: int) -> list[dict[str, Any]]:
    """An HoD's department's cases with a post; a Secretary's, those whose approval was escalated to them."""
    escalated_only = officer.role == ADMIN_SECRETARY
    rows = await ctx.pool.fetch(
        "SELECT r.application_no, r.employee_id, r.department, r.district, r.post_code, p.post_id "
        "FROM orders.case_request r JOIN orders.supernumerary_post p USING (application_no) "
        "WHERE r.approved_at IS NULL AND r.closed_at IS NULL AND r.department = $1 AND (NOT $4 OR EXISTS (SELECT 1 FROM orders.escalation e "
        "WHERE e.application_no = r.application_no AND e.step = $5 AND e.to_ref = $6)) "
        "ORDER BY p.created_at, r.application_no LIMIT $2 OFFSET $3",
        officer.scope.get("department"),
        limit,
        offset,
        escalated_only,
        ORDER_ISSUE,
        secretary_ref(officer),
    )
    return [dict(r) for r in rows]


async def report(ctx: OrdersContext, officer: Principal) -> list[dict[str, Any]]:
    """Pending and overdue posts and approvals by department (the Finance and HoD stages); a Secretary sees
    their own department only."""
    department = report_department(officer)
    rows = await ctx.pool.fetch(
        "SELECT r.department AS key, "
        "count(*) FILTER (WHERE p.post_id IS NULL) AS awaiting_post, "
        "count(*) FILTER (WHERE p.post_id IS NULL AND r.post_due_at < now()) AS post_overdue, "
        "count(*) FILTER (WHERE p.post_id IS NOT NULL AND r.approved_at IS NULL) AS awaiting_approval, "
        "count(o.order_no) AS orders_issued FROM orders.case_request r "
        "LEFT JOIN orders.supernumerary_post p USING (application_no) "
        "LEFT JOIN orders.service_security_order o USING (application_no) WHERE ($1::text IS NULL OR r.department = $1) "
        "GROUP BY r.department ORDER BY r.department",
        department,
    )
    return [dict(r) for r in rows]


async def approve(
    ctx: OrdersContext, hod: Principal, application_no: str, from_addr: str | None = None
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn, conn.transaction():
        req = await conn.fetchrow(
            "SELECT * FROM orders.case_request WHERE application_no = $1 FOR UPDATE", application_no
        )
        if req is None or not covers(hod, department=req["department"]):
            raise ApiError(
                404, "case_not_in_department", f"Application {application_no} is not one of your department's cases."
            )
        if req["closed_at"] is not None:
            raise ApiError(
                409, "case_closed", f"The case of {application_no} is closed without an order: {req['closed_reason']}."
            )
        if hod.role != HOD and not await _escalated_to(conn, hod, application_no, ORDER_ISSUE):
            raise ApiError(
                403,
                "not_escalated_to_you",
                f"The approval of {application_no} is the HoD's; it has not been escalated to you.",
            )
        if req["approved_at"] is not None:
            return {
                "application_no": application_no,
                "approved_by": req["approved_by"],
                "approved_at": req["approved_at"],
            }
        if not await conn.fetchval("SELECT 1 FROM orders.supernumerary_post WHERE application_no = $1", application_no):
            raise ApiError(
                409, "post_not_created", f"Finance has not yet created a supernumerary post for {application_no}."
            )
        approved_at = await conn.fetchval(
            "UPDATE orders.case_request SET approved_by = $2, approved_at = now() "
            "WHERE application_no = $1 RETURNING approved_at",
            application_no,
            hod.subject,
        )
        await publish(
            conn,
            "orders",
            EventType.ORDER_APPROVED,
            req["employee_id"],
            {"application_no": application_no, "approved_by": hod.subject},
        )
        await audit.append(
            conn,
            "orders",
            hod,
            "order.approve",
            application_no,
            from_addr=from_addr,
            before="awaiting_hod_approval",
            after="approved",
        )
    return {"application_no": application_no, "approved_by": hod.subject, "approved_at": approved_at}
