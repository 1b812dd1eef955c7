"""Anyone who can reach the Temporal frontend can signal a case with the Temporal CLI, in plain JSON: "the employee
registered", "the order approved". The cases worker's codec refuses a payload that is not sealed with the payload
keys, logs it, and the case does not hear it (tests/workflows/test_sealed_signals.py has the same on the
time-skipping server, through the SDK)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from contract import EventType, Stage, case_workflow_id

from .conftest import SEASON
from .helpers import case_stage

pytestmark = pytest.mark.stack


async def test_a_plain_json_signal_sent_with_the_temporal_cli_is_refused_and_logged(stack, master, temporal):
    employee = [e for e in master.employees if e.fault is None][-3]  # one no other test touches
    workflow_id = case_workflow_id(employee.master["employee_id"], SEASON)
    assert (await case_stage(temporal, employee.master["employee_id"])).stage == Stage.AWAITING_REGISTRATION
    forged = {"event_id": "forged-by-cli-1", "type": EventType.OTP_VERIFIED, "data": {}}
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "temporal"),
            "workflow",
            "signal",
            "--address",
            stack.temporal_address,
            "--workflow-id",
            workflow_id,
            "--name",
            "case_event",
            "--input",
            json.dumps(forged),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr  # the frontend took the signal: only the worker can refuse it
    log = stack.logs / "cases-worker.log"
    for _ in range(60):
        if "refused an unsealed payload" in log.read_text():
            break
        await asyncio.sleep(0.5)
    assert "refused an unsealed payload" in log.read_text()
    assert (
        await case_stage(temporal, employee.master["employee_id"])
    ).stage == Stage.AWAITING_REGISTRATION  # the forged act was not heard
