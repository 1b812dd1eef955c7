"""A case hears only what was sealed with the payload keys: a signal in plain JSON (anyone who can reach the
Temporal frontend can send one with the CLI: "the employee registered", "the order approved") is refused by
the codec, logged, and dropped by the SDK; the case goes on as if it had never come."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.converter import DataConverter

from contract import EventType, Stage
from workflows.case import CaseWorkflow

from .test_case_season import event, stage_of, start


async def test_a_plain_json_signal_is_refused_and_the_case_goes_on(env, season, caplog):
    handle = await start(env, "T-PLAIN-1")
    plain = Client(env.client.service_client, namespace=env.client.namespace, data_converter=DataConverter.default)
    await plain.get_workflow_handle(handle.id).signal(CaseWorkflow.case_event, event(EventType.OTP_VERIFIED))
    assert await stage_of(handle) == Stage.AWAITING_REGISTRATION  # the forged registration was not heard
    assert "refused an unsealed payload" in caplog.text

    await handle.signal(CaseWorkflow.case_event, event(EventType.OTP_VERIFIED))  # the sealed one is
    assert await stage_of(handle) == Stage.AWAITING_APPLICATION
    await handle.terminate("test done")
