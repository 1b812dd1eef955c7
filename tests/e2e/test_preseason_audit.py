"""The pre-season audit on the real stack: data officers and DDOs see the findings on their own records only
(GET /master/audit); `seva audit master-data` writes the summary and the lists per data owner, district and
DDO, with no full mobile number in them; and the audit is measured against what the synthetic data knows
(each employee's real phone): of the employees who would get no OTP, how many it flags (recall), and how many
of those it flags really would get none (precision)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ops.preseason_audit import run
from services.otp.preseason import BLOCKS_OTP

from .conftest import SEASON
from .helpers import assert_error, employee_session, officer_headers

pytestmark = pytest.mark.stack


async def test_each_officer_sees_the_findings_on_their_own_records_only(stack, master, http):
    url = f"{stack.url('otp')}/master/audit"
    r = await http.get(url, headers=await officer_headers(stack, http, "DATA-HKRN"))
    assert r.status_code == 200, r.text
    findings = r.json()
    assert findings and {f["data_owner"] for f in findings} == {"HKRN"}
    assert all(f["code"] and f["who_acts"] and f["remedy"] for f in findings)
    flagged = next(e for e in master.employees if e.fault == "ppp_mismatch")
    ddo = flagged.master["ddo_code"]
    r = await http.get(url, headers=await officer_headers(stack, http, f"OFF-{ddo}"))
    mine = r.json()
    assert {f["ddo_code"] for f in mine} == {ddo}
    assert any(f["employee_id"] == flagged.master["employee_id"] and "family_id" in f["code"] for f in mine)
    employee = [e for e in master.employees if e.fault is None][45]  # one no other test signs in
    assert_error(await http.get(url, headers=await employee_session(stack, http, employee)), 403, "forbidden")


async def test_recall_and_precision_of_the_audit_for_employees_who_would_get_no_otp(stack, master, db):
    found = await run(stack.database_url, SEASON)
    ours = {e.master["employee_id"]: e for e in master.employees}
    records = {
        r["employee_id"]: r for r in await db.fetch("SELECT employee_id, mobile, status FROM otp.employee_master")
    }
    # would get no OTP: the record holds a number the employee does not have, or is inactive (today, after the
    # remedies other tests applied)
    truth = {i for i, e in ours.items() if records[i]["mobile"] != e.actual_mobile or records[i]["status"] != "active"}
    flagged = {f.employee_id for f in found if f.code in BLOCKS_OTP and f.employee_id in ours}
    assert truth, "the synthetic data has employees who would get no OTP"
    recall = len(flagged & truth) / len(truth)
    precision = len(flagged & truth) / len(flagged) if flagged else 0.0
    print(f"\npre-season audit: recall {recall:.0%} ({len(flagged & truth)}/{len(truth)}), precision {precision:.0%}")
    # The registry has numbers of its own (none for some families, another member's for some): the audit is not
    # graded on a registry right by construction. Where it holds the employee's own number, it can tell a record
    # right from wrong, and the audit must, both ways; elsewhere only the SMS answers can (bench/simulate.py
    # measures recall and precision over a range of answer rates).
    known = {i for i, e in ours.items() if e.ppp["mobile"] == e.actual_mobile}
    assert known != set(ours) and known, "the registry is imperfect, not empty"
    missed = (truth & known) - flagged
    assert not missed, f"wrong records the registry could tell, not flagged: {sorted(missed)[:5]}"
    false_alarms = (flagged & known) - truth
    assert not false_alarms, f"right records the registry vouches for, flagged: {sorted(false_alarms)[:5]}"


def test_the_command_writes_the_summary_and_the_lists(stack, master, tmp_path):
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "seva"),
            "audit",
            "master-data",
            "--database-url",
            stack.database_url,
            "--season",
            SEASON,
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = (tmp_path / "summary.md").read_text()
    assert "would get no OTP" in summary and "| cause | who acts | records |" in summary
    assert list((tmp_path / "by-data-owner").glob("*.csv")) and list((tmp_path / "by-ddo").glob("*.csv"))
    everything = "\n".join(p.read_text() for p in tmp_path.rglob("*.*"))
    for e in master.employees:
        assert e.master["mobile"] not in everything and e.actual_mobile not in everything
