"""Kafka -> case workflow. Each domain event a case must hear becomes a `case_event` signal on
`case-<employee id>`. Redelivery is harmless: the workflow ignores an event id it has seen."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from contract import TOPICS, CaseEvent, EventType, case_workflow_id
from services.common.kafka import DeadLetter
from workflows.calendar_copy import CalendarCopy
from workflows.calendar_fanout import reopens_registration, tell_lapsed_cases
from workflows.case import CaseWorkflow
from workflows.case_start import start_case

log = logging.getLogger("seva.cases.router")

CASE_TOPICS = [TOPICS[s] for s in ("otp", "applications", "verification", "orders")]


def event_router(
    client: Client, season_id: str, calendar: CalendarCopy | None = None
) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """Events name the employee; the case is the one of the season these services run (`season_id`)."""

    async def handle(event: dict[str, Any]) -> None:
        if event.get("type") == EventType.CALENDAR_CHANGED:
            change = event.get("data", {})
            if calendar is not None:
                calendar.forget(change.get("season_id", ""))
            if reopens_registration(change):
                await tell_lapsed_cases(client, event)
            return
        if event.get("type") == EventType.RECORD_ADDED:
            # a data owner added the record of a person who was in no database: their case starts now
            data = event.get("data", {})
            if data.get("season_id") != season_id:  # the services disagree on the season: a configuration fault
                raise DeadLetter(
                    f"a record added for season {data.get('season_id')!r}; this worker runs {season_id!r}",
                    reason="wrong_season",
                )
            if await start_case(
                client,
                event["employee_id"],
                season_id,
                data["employee_group"],
                data["department_code"],
                data["district"],
                data["ddo_code"],
                no_otp_reported_at=_moment(data.get("no_otp_reported_at")),
                record_added_at=_moment(data.get("record_added_at")),
            ):
                log.info("case started for %s, whose record was added on a certificate", event["employee_id"])
            return
        if event.get("type") not in EventType.CASE_SIGNALS:
            return  # events no case waits for (e.g. order.issued) pass by
        handle_ = client.get_workflow_handle(case_workflow_id(event["employee_id"], season_id))
        try:
            await handle_.signal(
                CaseWorkflow.case_event,
                CaseEvent(
                    event_id=event["event_id"],
                    type=event["type"],
                    data=event.get("data", {}),
                    occurred_at=event.get("occurred_at"),
                ),
            )
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            status = await _case_status(client, handle_.id)
            if status == WorkflowExecutionStatus.COMPLETED:
                # The case has ended on its own terms (order issued, ineligible, lapsed): a redelivered copy of an
                # event it took in, or an employee signing in to read the decision or download the order, tells it
                # nothing it can use. Done with, not parked: parking it would bury, among thousands, the dead
                # letters an operator must act on.
                log.info("%s for %s: the case has ended, nothing to do", event["type"], event["employee_id"])
                return
            if status is None:
                raise DeadLetter(f"no case for {event['employee_id']}: {err.message}", reason="no_case") from err
            raise DeadLetter(
                f"the case of {event['employee_id']} is {status.name.lower()}, not running: {err.message}",
                reason="case_not_running",
            ) from err

    return handle


async def _case_status(client: Client, workflow_id: str) -> WorkflowExecutionStatus | None:
    """How the case's latest run stands, or None if there is no case at all. Read from the raw description:
    only its status is needed, not the search attributes the SDK would decode."""
    try:
        described = await client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
            )
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return WorkflowExecutionStatus(described.workflow_execution_info.status)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
