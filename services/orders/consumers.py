"""The orders service's Kafka consumer: Finance's and the HoD's steps escalated to a Secretary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contract import ORDER_ISSUE, POST_CREATION, TOPICS, EventType
from services.common.events import claim_event
from services.common.runtime import Consumer, OrdersContext


def escalations_consumer(ctx: OrdersContext) -> Consumer:
    """Finance's and the HoD's steps escalated to a Secretary (case.escalated, from the verification service)."""

    async def handle(event: dict[str, Any]) -> None:
        data = event.get("data", {})
        if (
            event.get("type") != EventType.CASE_ESCALATED
            or data.get("step") not in (POST_CREATION, ORDER_ISSUE)
            or not data.get("application_no")
        ):
            return
        async with ctx.pool.acquire() as conn, conn.transaction():
            if await claim_event(conn, "orders", "escalations", event["event_id"]):
                await conn.execute(
                    "INSERT INTO orders.escalation (application_no, step, level, to_role, to_ref, escalated_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                    data["application_no"],
                    data["step"],
                    int(data["level"]),
                    data["to_role"],
                    data["to_ref"],
                    datetime.fromisoformat(data["escalated_at"]),
                )

    return [TOPICS["verification"]], handle
