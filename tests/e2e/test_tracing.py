"""One officer's action traced end to end under one trace id: the FastAPI request, the Kafka event (context in
its headers), the signal to the case, and the activity the case then runs in another service."""
from __future__ import annotations

import json
import secrets

import pytest

from workflows.contracts import Stage

from .conftest import eventually, prepare_application
from .test_bad_input import _employee_session
from .test_employee_case_end_to_end import _stage_is, in_ddo_queue, officer_headers

pytestmark = pytest.mark.stack


def spans_of(stack, service: str, trace_id: str) -> list[dict]:
    path = stack.data_dir / "traces" / f"{service}.jsonl"
    if not path.exists():
        return []
    return [s for s in map(json.loads, path.read_text().splitlines()) if s["trace_id"] == trace_id]


async def test_one_trace_id_from_the_request_to_the_activity_it_causes(stack, master, temporal, http):
    employee = [e for e in master.employees if e.fault is None][18]
    m = employee.master
    auth = await _employee_session(stack, http, employee)
    await prepare_application(stack, http, auth, m["employee_id"])
    form = {"department_code": m["department_code"], "district": m["district"], "post_code": m["post_code"],
            "ddo_code": m["ddo_code"], "date_of_joining": m["date_of_joining"].isoformat()}
    no = (await http.post(f"{stack.url('applications')}/applications", json=form, headers=auth)).json()["application_no"]
    await eventually(lambda: _stage_is(temporal, m["employee_id"], Stage.AWAITING_DDO_VERIFICATION), what="queued")

    trace_id = secrets.token_hex(16)
    ddo = await officer_headers(stack, http, f"OFF-{m['ddo_code']}")
    await in_ddo_queue(stack, http, ddo, no)
    r = await http.post(f"{stack.url('verification')}/verification/applications/{no}/decision",
                        json={"decision": "verified"},
                        headers={**ddo, "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"})
    assert r.status_code == 200

    async def whole_trace():
        found = {svc: {s["name"] for s in spans_of(stack, svc, trace_id)} for svc in ("verification", "cases", "orders")}
        return (any(n.startswith("POST /verification/applications/") for n in found["verification"])
                and "consume verification.events" in found["cases"]
                and "SignalWorkflow:case_event" in found["cases"] and "HandleSignal:case_event" in found["cases"]
                and "StartActivity:open_post_request" in found["cases"]
                and "RunActivity:open_post_request" in found["orders"]) and found
    found = await eventually(whole_trace, timeout=30, what=f"every span of trace {trace_id}")
    # and the chain is parent to child: the activity's span descends from the request's
    spans = {s["span_id"]: s for svc in ("verification", "cases", "orders") for s in spans_of(stack, svc, trace_id)}
    run = next(s for s in spans.values() if s["name"] == "RunActivity:open_post_request")
    chain = []
    while run:
        chain.append(run["name"])
        run = spans.get(run["parent_id"])
    assert chain[-1].startswith("POST /verification/applications/"), chain
    assert "consume verification.events" in chain and "HandleSignal:case_event" in chain, chain
