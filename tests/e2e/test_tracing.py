"""One officer's action traced end to end under one trace id: the FastAPI request, the Kafka event (context in
its headers), the signal to the case, and the activity the case then runs in another service."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from .conftest import eventually
from .helpers import submitted_and_queued

pytestmark = pytest.mark.stack


def spans_of(stack, service: str, trace_id: str) -> list[dict[str, Any]]:
    path = stack.data_dir / "traces" / f"{service}.jsonl"
    if not path.exists():
        return []
    return [s for s in map(json.loads, path.read_text().splitlines()) if s["trace_id"] == trace_id]


async def test_one_trace_id_from_the_request_to_the_activity_it_causes(stack, master, temporal, http):
    employee = [e for e in master.employees if e.fault is None][18]
    no, _, ddo = await submitted_and_queued(stack, http, temporal, employee)
    trace_id = secrets.token_hex(16)
    r = await http.post(
        f"{stack.url('verification')}/verification/applications/{no}/decision",
        json={"decision": "verified"},
        headers={**ddo, "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    assert r.status_code == 200

    async def whole_trace():
        found = {
            svc: {s["name"] for s in spans_of(stack, svc, trace_id)} for svc in ("verification", "cases", "orders")
        }
        return (
            any(n.startswith("POST /verification/applications/") for n in found["verification"])
            and "consume verification.events" in found["cases"]
            and "SignalWorkflow:case_event" in found["cases"]
            and "HandleSignal:case_event" in found["cases"]
            and "StartActivity:open_post_request" in found["cases"]
            and "RunActivity:open_post_request" in found["orders"]
        ) and found

    await eventually(whole_trace, timeout=30, what=f"every span of trace {trace_id}")
    # and the chain is parent to child: the activity's span descends from the request's
    spans = {s["span_id"]: s for svc in ("verification", "cases", "orders") for s in spans_of(stack, svc, trace_id)}
    run = next(s for s in spans.values() if s["name"] == "RunActivity:open_post_request")
    chain: list[str] = []
    hop: dict[str, Any] | None = run
    while hop:
        chain.append(hop["name"])
        hop = spans.get(hop["parent_id"])
    assert chain[-1].startswith("POST /verification/applications/"), chain
    assert "consume verification.events" in chain and "HandleSignal:case_event" in chain, chain
