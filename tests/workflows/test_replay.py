"""Cases live for months: today's workflow code must replay the histories of cases started by
earlier code. A change that breaks this needs workflow.patched(), not a new recording."""
from __future__ import annotations

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.case import CaseWorkflow

from .conftest import HISTORIES

RECORDED = sorted(HISTORIES.glob("*.json"))


def test_recorded_histories_exist():
    assert {p.stem for p in RECORDED} >= {"case_happy_path", "case_ddo_missed_deadline", "case_escalated_to_secretary",
                                          "case_lapsed_then_reopened", "case_returned_and_resubmitted",
                                          "case_continued_as_new", "case_first_task_split"}


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
async def test_case_workflow_replays_recorded_history(path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await Replayer(workflows=[CaseWorkflow]).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name} no longer replays: {result.replay_failure}"
