"""The applications service's Kafka consumer: the DDO's return reaches the application."""

from __future__ import annotations

from typing import Any

from contract import TOPICS, EventType
from services.common.events import claim_event
from services.common.runtime import ApplicationsContext, Consumer


def returns_consumer(ctx: ApplicationsContext) -> Consumer:
    """The DDO's return reaches the application (status and remarks), once per event."""

    async def handle(event: dict[str, Any]) -> None:
        data = event.get("data", {})
        if event.get("type") != EventType.VERIFICATION_DECIDED or data.get("decision") != "returned":
            return
        async with ctx.pool.acquire() as conn, conn.transaction():
            if await claim_event(conn, "applications", "returns", event["event_id"]):
                await conn.execute(
                    "UPDATE applications.application SET status = 'returned', remarks = $2, "
                    "returned_at = now() WHERE application_no = $1",
                    data["application_no"],
                    data.get("remarks") or {},
                )

    return [TOPICS["verification"]], handle
