"""Tell lapsed cases at once that registration was extended.

A waiting case needs no word of an extension: it reads the calendar in force whenever a timer fires. A
lapsed case has no deadline left to wake it, only a daily check-in, so without a word it would reopen (and
send the employee the "registration is open again" SMS) up to 36 hours after the extension. When the
registration close moves into the future, the cases worker asks the Temporal server for one batch job that
signals every lapsed case: a single call from us, the server paces the signals, and only lapsed cases (a
fraction of the season) pay for one. The job id is the calendar version, so the event delivered twice starts
it once; a job still running for an earlier extension is stopped, superseded. The daily check-in stays as
the fallback if the job cannot start.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from temporalio.api.batch.v1 import BatchOperationSignal
from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import BatchOperationState
from temporalio.api.workflowservice.v1 import (
    DescribeBatchOperationRequest,
    ListBatchOperationsRequest,
    StartBatchOperationRequest,
    StopBatchOperationRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from contract import REGISTRATION_CLOSE, CaseEvent, EventType, Stage

log = logging.getLogger("seva.cases.fanout")

LAPSED_AT_REGISTRATION = (Stage.LAPSED_UNREGISTERED, Stage.LAPSED_NO_APPLICATION)
LAPSED_CASES_QUERY = (
    "WorkflowType = 'CaseWorkflow' AND ExecutionStatus = 'Running' AND CaseStage IN ("
    + ", ".join(f"'{stage}'" for stage in LAPSED_AT_REGISTRATION)
    + ")"
)


def reopens_registration(data: dict[str, Any], now: datetime | None = None) -> bool:
    """Only a registration close moved into the future can reopen a lapsed case."""
    if data.get("step") != REGISTRATION_CLOSE or not data.get("new_deadline"):
        return False
    return datetime.fromisoformat(data["new_deadline"]) > (now or datetime.now(UTC))


def _job_prefix(season_id: str) -> str:
    return f"registration-extended-{season_id}-v"


def batch_job_id(data: dict[str, Any]) -> str:
    return f"{_job_prefix(data['season_id'])}{data['version']}"


async def tell_lapsed_cases(client: Client, event: dict[str, Any]) -> str:
    """Start the batch signal for a `calendar.changed` event that reopens registration; returns the job id."""
    data = event.get("data", {})
    job_id = batch_job_id(data)
    if await _job_exists(client, job_id):
        log.info("batch job %s already started (event delivered again)", job_id)
        return job_id
    await _stop_superseded_jobs(client, data["season_id"], job_id)
    notice = CaseEvent(event_id=event["event_id"], type=EventType.CALENDAR_CHANGED, data=data)
    request = StartBatchOperationRequest(
        namespace=client.namespace,
        job_id=job_id,
        visibility_query=LAPSED_CASES_QUERY,
        reason=f"registration close extended to {data['new_deadline']} (calendar version {data['version']})",
        signal_operation=BatchOperationSignal(
            signal="case_event",
            identity="seva-cases-worker",
            input=Payloads(payloads=await client.data_converter.encode([notice])),
        ),
    )
    try:
        await client.workflow_service.start_batch_operation(request)
    except RPCError as err:
        if err.status == RPCStatusCode.ALREADY_EXISTS:
            return job_id
        if err.status == RPCStatusCode.RESOURCE_EXHAUSTED:
            # someone else's batch job holds the namespace's slot: retried, then left to the daily check-in
            raise RuntimeError(f"could not start {job_id} yet: {err.message}") from err
        raise
    log.info("batch job %s tells lapsed cases that registration now closes %s", job_id, data["new_deadline"])
    return job_id


async def _job_exists(client: Client, job_id: str) -> bool:
    # asked first: the server answers a second start with "too many batch jobs", not "already exists"
    try:
        await client.workflow_service.describe_batch_operation(
            DescribeBatchOperationRequest(namespace=client.namespace, job_id=job_id)
        )
        return True
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise


async def _stop_superseded_jobs(client: Client, season_id: str, job_id: str) -> None:
    """A server runs few batch jobs at once (one per namespace by default). A job still telling lapsed cases
    of an earlier extension of the same season is superseded: every case it has not reached yet will hear of
    the newer one, and a case reads the calendar in force either way. Other jobs (ops' own) are left alone."""
    prefix = _job_prefix(season_id)
    page = await client.workflow_service.list_batch_operations(
        ListBatchOperationsRequest(namespace=client.namespace, page_size=100)
    )
    for job in page.operation_info:
        if (
            job.job_id.startswith(prefix)
            and job.job_id != job_id
            and job.state == BatchOperationState.BATCH_OPERATION_STATE_RUNNING
        ):
            log.info("batch job %s superseded by %s: stopping it", job.job_id, job_id)
            try:
                await client.workflow_service.stop_batch_operation(
                    StopBatchOperationRequest(
                        namespace=client.namespace,
                        job_id=job.job_id,
                        reason=f"superseded by {job_id}",
                        identity="seva-cases-worker",
                    )
                )
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
