"""Activities the case workflow runs in the orders service's process (task queue `orders`)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import date, datetime
from typing import Any

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contract import IST, Activities, CaseClosure, IssuedOrder, OrderRequest, PostRequest, past_superannuation
from services.common.events import publish, stable_event_id
from services.common.runtime import OrdersContext

from .order_document import render_pdf, secure_until, sign_payload, signing_key
from .order_seal import OrderSigner, order_signer, seal


def sealed_pdf(order: dict[str, Any], qr_payload: str, signer: OrderSigner) -> bytes:
    """The order's PDF, drawn and then signed (PAdES): CPU work, run in a thread."""
    return seal(render_pdf(order, qr_payload), signer)


def activities(ctx: OrdersContext) -> list[Any]:
    # built at start, so a service with a broken signer does not start (rather than fail at the first order)
    signer = order_signer(ctx.settings.order_signing_pem)

    @activity.defn(name=Activities.OPEN_POST_REQUEST.name)
    async def open_post_request(req: PostRequest) -> None:
        """Put the verified case in Finance's list (once, however often retried)."""
        await ctx.pool.execute(
            "INSERT INTO orders.case_request (application_no, employee_id, department, district, post_code, post_due_at) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (application_no) DO NOTHING",
            req.application_no,
            req.employee_id,
            req.department,
            req.district,
            req.post_code,
            req.due_at,
        )

    @activity.defn(name=Activities.ISSUE_ORDER.name)
    async def issue_service_security_order(req: OrderRequest) -> IssuedOrder:
        """Issue the order once, with its PDF and signed QR payload: a retry returns the order already issued.
        Reserve the number (short transaction), draw the PDF in a thread with no transaction open (a burst of
        approvals drew each inside its transaction, holding the row lock and a connection for the CPU's quarter
        second, and officers got 503s), then store it with its event (short transaction)."""
        issued = await _issued(ctx.pool, req.application_no)
        if issued is not None:
            return issued
        if not req.name.strip() or not req.date_of_birth:
            # The service record was not found (or is blank): an order with no name or date of birth, secure up to
            # no date, is no order. Failed for good: the case waits in needs_attention with this reason.
            raise ApplicationError(
                f"the particulars for {req.employee_id}'s order are blank (name or date of birth missing); "
                "the service record must be found and complete before the order is issued",
                type="BlankParticulars",
                non_retryable=True,
            )
        retired = past_superannuation(req.date_of_birth, datetime.now(IST).date())
        if retired is not None:
            # The case closes such an employee's case before asking (workflows/case.py); this is the last guard, for
            # a case that asked before that check: an order never secures service up to a date already past.
            raise ApplicationError(
                f"{req.employee_id} reached superannuation on {retired:%d %b %Y}: no order is issued after it",
                type="Superannuated",
                non_retryable=True,
            )
        async with ctx.pool.acquire() as conn, conn.transaction():
            reserved = await conn.fetchrow(
                "SELECT order_no_reserved, order_date_reserved FROM orders.case_request WHERE application_no = $1 "
                "FOR UPDATE",
                req.application_no,
            )
            department = await conn.fetchval(
                "SELECT department FROM orders.supernumerary_post WHERE post_id = $1", req.post_id
            )
            if reserved is None or reserved["order_no_reserved"] is None:
                seq = await conn.fetchval("SELECT nextval('orders.order_seq')")
                today = datetime.now(IST).date()
                reserved = await conn.fetchrow(
                    "UPDATE orders.case_request SET order_no_reserved = $2, order_date_reserved = $3 "
                    "WHERE application_no = $1 RETURNING order_no_reserved, order_date_reserved",
                    req.application_no,
                    f"SSO/{today.year}/{department}/{seq:06d}",
                    today,
                )
        born = date.fromisoformat(req.date_of_birth) if req.date_of_birth else None
        today = reserved["order_date_reserved"]
        order = {
            "order_no": reserved["order_no_reserved"],
            "employee_id": req.employee_id,
            "post_id": req.post_id,
            "department": department,
            "name": req.name,
            "father_name": req.father_name,
            "date_of_birth": born,
            "post_code": req.post_code,
            "effective_date": today,
            "secure_until": secure_until(born) if born else None,
        }
        payload = sign_payload(signing_key(ctx.settings.order_signing_seed), order)
        pdf = await asyncio.to_thread(sealed_pdf, order, payload, signer)
        async with ctx.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO orders.service_security_order (order_no, application_no, employee_id, post_id, "
                "department, name, father_name, date_of_birth, post_code, effective_date, secure_until, qr_payload, "
                "pdf, pdf_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
                "ON CONFLICT (application_no) DO NOTHING RETURNING order_no, post_id, issued_at",
                order["order_no"],
                req.application_no,
                req.employee_id,
                req.post_id,
                department,
                req.name,
                req.father_name,
                born,
                req.post_code,
                today,
                order["secure_until"],
                payload,
                pdf,
                hashlib.sha256(pdf).hexdigest(),
            )
            if row is None:  # a concurrent attempt stored it first: the same order
                row = await conn.fetchrow(
                    "SELECT order_no, post_id, issued_at FROM orders.service_security_order WHERE application_no = $1",
                    req.application_no,
                )
            else:
                await publish(
                    conn,
                    "orders",
                    "order.issued",
                    req.employee_id,
                    {"application_no": req.application_no, "order_no": order["order_no"]},
                    event_id=stable_event_id("order.issued", req.application_no),
                )
        return IssuedOrder(order_no=row["order_no"], post_id=row["post_id"], issued_at=row["issued_at"])

    @activity.defn(name=Activities.CLOSE_POST_REQUEST.name)
    async def close_post_request(closure: CaseClosure) -> None:
        """A case closed without an order leaves Finance's and the HoD's lists (the officers are told by the
        verification service). Once, however often retried; a case never sent here changes nothing."""
        await ctx.pool.execute(
            "UPDATE orders.case_request SET closed_at = $2, closed_reason = $3 "
            "WHERE application_no = $1 AND closed_at IS NULL",
            closure.application_no,
            closure.closed_at,
            closure.reason,
        )

    return [open_post_request, issue_service_security_order, close_post_request]


async def _issued(pool: asyncpg.Pool, application_no: str) -> IssuedOrder | None:
    row = await pool.fetchrow(
        "SELECT order_no, post_id, issued_at FROM orders.service_security_order WHERE application_no = $1",
        application_no,
    )
    return IssuedOrder(order_no=row["order_no"], post_id=row["post_id"], issued_at=row["issued_at"]) if row else None
