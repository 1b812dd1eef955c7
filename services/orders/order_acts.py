"""What may happen to an order after issue: it is checked (by anyone), downloaded (by the employee or the
department's officers), withdrawn (a new recorded act), and paper orders are declared void."""

from __future__ import annotations

from typing import Any

import jwt

from contract import EventType
from contract.search_attributes import DEPARTMENT
from services.common import audit
from services.common.auth import EMPLOYEE, Principal
from services.common.errors import ApiError
from services.common.events import publish
from services.common.runtime import OrdersContext
from services.common.scope import covers

from .order_document import read_payload, signing_key

CHECK_SQL = (
    "SELECT o.order_no, o.department, o.issued_at, o.secure_until, o.employee_id, o.post_id, "
    "w.withdrawn_at, w.reason AS withdrawal_reason FROM orders.service_security_order o "
    "LEFT JOIN orders.order_withdrawal w USING (order_no) WHERE o.order_no = $1"
)


def _check(row: Any) -> dict[str, Any]:
    return {
        "order_no": row["order_no"],
        "genuine": True,
        "current": row["withdrawn_at"] is None,
        "department": row["department"],
        "issued_at": row["issued_at"],
        "secure_until": row["secure_until"],
        "withdrawn_at": row["withdrawn_at"],
        "withdrawal_reason": row["withdrawal_reason"],
    }


async def check_number(ctx: OrdersContext, order_no: str) -> dict[str, Any]:
    row = await ctx.pool.fetchrow(CHECK_SQL, order_no)
    if row is None:
        raise ApiError(404, "order_not_found", f"No service-security order {order_no} was issued on this portal.")
    return _check(row)


async def check_qr(ctx: OrdersContext, payload: str) -> dict[str, Any]:
    try:
        claims = read_payload(signing_key(ctx.settings.order_signing_seed).public_key(), payload.strip())
    except jwt.PyJWTError:
        raise ApiError(
            422,
            "qr_not_genuine",
            "This QR code was not signed by the Seva Suraksha portal: the order "
            "it belongs to may be forged or altered.",
        ) from None
    row = await ctx.pool.fetchrow(CHECK_SQL, claims["ord"])
    if row is None or (row["employee_id"], row["post_id"]) != (claims.get("emp"), claims.get("post")):
        raise ApiError(422, "qr_not_genuine", "This QR code does not match an order issued on this portal.")
    return _check(row)


def may_see(officer: Principal, order_row: Any) -> bool:
    return covers(officer, department=order_row["department"], employee_id=order_row["employee_id"])


async def pdf(ctx: OrdersContext, who: Principal, order_no: str) -> bytes:
    row = await ctx.pool.fetchrow(
        "SELECT employee_id, department, pdf FROM orders.service_security_order WHERE order_no = $1", order_no
    )
    if row is None or not may_see(who, row):
        raise ApiError(404, "order_not_found", f"There is no order {order_no} that you may see.")
    return bytes(row["pdf"])


async def withdraw(
    ctx: OrdersContext, officer: Principal, order_no: str, reason: str, from_addr: str
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT employee_id, department FROM orders.service_security_order WHERE order_no = $1", order_no
        )
        if row is None or officer.role == EMPLOYEE or not may_see(officer, row):
            raise ApiError(404, "order_not_found", f"There is no order {order_no} in your charge.")
        done = await conn.fetchval(
            "INSERT INTO orders.order_withdrawal (order_no, withdrawn_by, reason) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            order_no,
            officer.subject,
            reason,
        )
        if done is None:
            raise ApiError(409, "already_withdrawn", f"Order {order_no} has already been withdrawn.")
        await audit.append(
            conn,
            "orders",
            officer,
            "order.withdraw",
            order_no,
            from_addr=from_addr,
            before="current",
            after="withdrawn",
            details={"reason": reason},
        )
        await publish(conn, "orders", "order.withdrawn", row["employee_id"], {"order_no": order_no, "reason": reason})
    return await check_number(ctx, order_no)


async def _case_department(ctx: OrdersContext, employee_id: str) -> str | None:
    """The department of the employee's case (every eligible employee has one), or None if there is none."""
    attributes = await ctx.case_attributes(employee_id)
    return attributes.get(DEPARTMENT) if attributes is not None else None


async def register_physical(ctx: OrdersContext, officer: Principal, body: Any, from_addr: str) -> dict[str, Any]:
    """Only for an employee who has a case, of the department the order names, by that department's HoD (or
    the administrator)."""
    department = await _case_department(ctx, body.employee_id)
    if department is None:
        raise ApiError(
            404,
            "employee_not_found",
            f"There is no case for employee {body.employee_id}; check the employee id on the paper order.",
        )
    if not covers(officer, department=department):
        raise ApiError(403, "forbidden", "You may register paper orders only for employees of your own department.")
    if body.department != department:
        raise ApiError(
            422,
            "department_mismatch",
            f"Employee {body.employee_id} is in {department}, not {body.department}; check the paper order.",
        )
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "INSERT INTO orders.physical_order (employee_id, department, reference, issued_on, registered_by) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (department, reference) DO NOTHING "
            "RETURNING employee_id, department, reference, issued_on, status, registered_by, registered_at",
            body.employee_id,
            body.department,
            body.reference,
            body.issued_on,
            officer.subject,
        )
        if row is None:
            raise ApiError(
                409,
                "already_registered",
                f"Paper order {body.reference} of {body.department} is already on the register.",
            )
        await audit.append(
            conn,
            "orders",
            officer,
            "physical_order.void",
            body.employee_id,
            from_addr=from_addr,
            before=None,
            after="void",
            details={"reference": body.reference},
        )
        await publish(
            conn,
            "orders",
            EventType.PHYSICAL_ORDER_VOIDED,
            body.employee_id,
            {"reference": body.reference, "department": body.department, "issued_on": str(body.issued_on)},
        )
    return dict(row)
