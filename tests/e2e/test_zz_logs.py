"""Runs late, after the journeys: every line the services, the portal and the cases worker wrote is a JSON
object with its service, level and message, and the lines written while handling a traced request carry its
trace id (services/common/logs.py)."""

from __future__ import annotations

import json

import pytest

from .conftest import eventually
from .helpers import officer_headers

pytestmark = pytest.mark.stack

PROCESSES = ("otp", "applications", "verification", "orders", "portal", "cases-worker")


async def test_every_line_of_every_process_is_json_with_its_service(stack, http, master):
    # a refusal is logged while its request is traced: that line carries the request's trace id
    ddo, other = master.ddos[0], next(e for e in master.employees if e.master["ddo_code"] != master.ddos[0]["ddo_code"])
    path = f"/master/employees/{other.master['employee_id']}/record"
    r = await http.get(
        f"{stack.url('otp')}{path}", headers=await officer_headers(stack, http, f"OFF-{ddo['ddo_code']}")
    )
    assert r.status_code == 404
    traced = 0
    for name in PROCESSES:
        path = stack.logs / f"{name}.log"
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
        for n, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise AssertionError(f"{name}.log line {n} is not JSON: {line[:200]}") from None
            assert record.get("service") == name, (name, n, record)
            assert record.get("level") and "message" in record, (name, n, record)
            traced += "trace_id" in record and len(record["trace_id"]) == 32
    assert traced > 0, "no line carries a trace id"

    denial = [
        json.loads(line)
        for line in (stack.logs / "otp.log").read_text().splitlines()
        if "asked for the record of an employee not theirs" in line and "trace_id" in line
    ]
    assert denial, "the refusal's line has no trace id"
    trace_id = denial[-1]["trace_id"]

    async def in_the_trace_file():
        return any(trace_id in p.read_text() for p in (stack.data_dir / "traces").glob("otp*.jsonl"))

    await eventually(in_the_trace_file, timeout=30, what="the logged trace among the OTP service's spans")
