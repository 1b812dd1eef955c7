"""`seva import --records`: the state's CSV files on the real stack. A file with one wrong row loads nothing
and says where; the corrected file loads every record and starts each new employee's case; run again, it
loads and starts nothing twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contract import CaseStatus, case_workflow_id
from services.otp.records import COLUMNS

from .conftest import SEASON, eventually

pytestmark = pytest.mark.stack


def _seva(stack, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **{k: v for k, v in stack.environment().items() if k.startswith("SEVA_")}}
    return subprocess.run(
        [str(Path(sys.executable).parent / "seva"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


async def test_a_wrong_row_loads_nothing_and_a_good_file_loads_and_starts_every_case(
    stack, master, db, temporal, tmp_path
):
    ddo = master.ddos[0]
    rows = [
        {
            "employee_id": f"HKCSV{i:05d}",
            "employee_group": "part1",
            "name": f"Csv Employee {i}",
            "father_name": "Csv Father",
            "date_of_birth": "1985-03-10",
            "mobile": f"99000000{i:02d}",
            "family_id": f"CSV{i:05d}",
            "department_code": ddo["department_code"],
            "district": ddo["district"],
            "post_code": "CLERK",
            "ddo_code": ddo["ddo_code"],
            "date_of_joining": "2016-01-04",
            "service_periods": "2016-01-04/",
            "sanctioned_post": "yes",
            "pay_head": "2202-01-101-99-51-Contractual Services",
            "status": "active",
        }
        for i in (1, 2)
    ]

    def write(rows) -> Path:
        path = tmp_path / "hkrn.csv"
        path.write_text("\n".join([",".join(COLUMNS)] + [",".join(r[c] for c in COLUMNS) for r in rows]) + "\n")
        return path

    bad = write([rows[0], {**rows[1], "mobile": "+91 99000"}])
    done = _seva(stack, "import", "--records", f"HKRN={bad}", cwd=tmp_path)
    assert done.returncode == 1 and "hkrn.csv, row 3, mobile: 10 digits" in done.stderr, done.stderr
    assert await db.fetchval("SELECT count(*) FROM otp.employee_master WHERE employee_id LIKE 'HKCSV%'") == 0
    assert (tmp_path / "var" / "import-errors.csv").read_text().count("\n") == 2

    good = write(rows)
    done = _seva(stack, "import", "--records", f"HKRN={good}", cwd=tmp_path)
    assert done.returncode == 0 and "2 new master records, 2 cases started" in done.stdout, done.stdout + done.stderr
    stored = await db.fetchrow(
        "SELECT data_owner, service_periods FROM otp.employee_master WHERE employee_id = 'HKCSV00001'"
    )
    assert stored["data_owner"] == "HKRN" and stored["service_periods"] == [{"from": "2016-01-04", "to": None}]

    async def started():
        status = await temporal.get_workflow_handle(case_workflow_id("HKCSV00002", SEASON)).query(
            "status", result_type=CaseStatus
        )
        return status.stage == "awaiting_registration"

    await eventually(started, what="the imported employee's case")
    again = _seva(stack, "import", "--records", f"HKRN={good}", cwd=tmp_path)
    assert again.returncode == 0 and "0 new master records, 0 cases started" in again.stdout

    # a case that failed (here: terminated by an operator) is started again only when asked, with the reason
    handle = temporal.get_workflow_handle(case_workflow_id("HKCSV00002", SEASON))
    await handle.terminate("a bad deployment failed this case")
    again = _seva(stack, "import", "--records", f"HKRN={good}", cwd=tmp_path)
    assert "0 cases started" in again.stdout
    refused = _seva(stack, "import", "--records", f"HKRN={good}", "--restart-failed", cwd=tmp_path)
    assert refused.returncode != 0 and "--reason" in refused.stderr
    restarted = _seva(
        stack,
        "import",
        "--records",
        f"HKRN={good}",
        "--restart-failed",
        "--reason",
        "the deployment that failed it was rolled back",
        cwd=tmp_path,
    )
    assert restarted.returncode == 0 and "0 new master records, 1 cases started" in restarted.stdout, restarted.stdout
    await eventually(started, what="the restarted case")  # the same id, a new run; HKCSV00001's is left alone
