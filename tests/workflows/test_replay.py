"""Cases live for months: today's workflow code must replay the histories of cases started by
earlier code. A change that breaks this needs workflow.patched(), not a new recording."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowHistory

from .conftest import HISTORIES, replay_failure

RECORDED = sorted(HISTORIES.glob("*.json"))


def test_recorded_histories_exist():
    assert {p.stem for p in RECORDED} >= {
        "case_happy_path",
        "case_ddo_missed_deadline",
        "case_escalated_to_secretary",
        "case_lapsed_then_reopened",
        "case_returned_and_resubmitted",
        "case_continued_as_new",
        "case_first_task_split",
        "case_remedy_held_registration",
        "case_signal_in_first_task",
        # recorded before and after the superannuation check: an order the old code issued still replays as issued
        "case_order_past_superannuation_before_the_check",
        "case_superannuated_before_order",
        # an act done before the close and heard after it reopens the case (act-counts-when-done)
        "case_act_heard_late",
    }


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
async def test_case_workflow_replays_recorded_history(path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    failure = await replay_failure(history)
    assert failure is None, f"{path.name} no longer replays: {failure}"


def _payload_lists(node, under_search_attributes=False):
    """Every list of payloads in a history (inputs, signals, activity arguments and results), skipping the
    search attributes (indexed in clear by design: stage, department, district, DDO code, group) and the
    SDK's own bookkeeping in a local activity's marker (its sequence number and times)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("searchAttributes", "header", "upsertedSearchAttributes"):
                continue
            if key == "markerRecordedEventAttributes":
                yield from _payload_lists(value.get("details", {}).get("result", {}))
                continue
            if key == "payloads" and isinstance(value, list):
                yield value
            else:
                yield from _payload_lists(value)
    elif isinstance(node, list):
        for item in node:
            yield from _payload_lists(item)


def test_recorded_histories_are_sealed_by_the_codec():
    """The histories were recorded through the codec: every payload of a case is sealed with a key id."""
    import base64
    import json

    sealed = base64.b64encode(b"binary/encrypted").decode()
    for path in RECORDED:
        lists = list(_payload_lists(json.loads(path.read_text())))
        assert len(lists) > 5, path.name
        for payloads in lists:
            for payload in payloads:
                assert payload["metadata"]["encoding"] == sealed, f"{path.name} holds a readable payload"
                assert payload["metadata"]["encryption-key-id"]


async def test_the_replay_fails_when_a_steps_commands_are_reordered():
    """The replay test can fail: the case with one step's commands reordered no longer replays the happy path."""
    path = HISTORIES / "case_happy_path.json"
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    assert await replay_failure(history) is None
    from temporalio.workflow import NondeterminismError

    from .reordered_case import Reordered

    assert isinstance(await replay_failure(history, Reordered), NondeterminismError)
