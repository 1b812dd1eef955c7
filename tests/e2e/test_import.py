"""`seva import` loads master data and starts cases; run again (as after an interruption) it creates nothing twice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from contract import case_workflow_id
from deploy.local.synthetic import generate

from .conftest import SEASON, eventually

pytestmark = pytest.mark.stack


SEED, FAULT_SHARE = 7, 0.2  # those of the `master` fixture


def seva_import(stack, size: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "seva"),
            "import",
            "--size",
            str(size),
            "--seed",
            str(SEED),
            "--fault-share",
            str(FAULT_SHARE),
        ],
        capture_output=True,
        text=True,
        env=stack.environment(),
        timeout=300,
    )


async def test_import_is_safe_to_run_again(stack, master, temporal):
    size = len(master.employees) + 15  # the same seed: the first 60 are the same people
    new_ids = [e.master["employee_id"] for e in generate(size, SEED, FAULT_SHARE).employees[len(master.employees) :]]

    async def their_cases() -> int:
        # only these employees' cases: other tests start cases too, and visibility lags behind them
        ids = ", ".join(f"'{case_workflow_id(i, SEASON)}'" for i in new_ids)
        return (await temporal.count_workflows(f"WorkflowType = 'CaseWorkflow' AND WorkflowId IN ({ids})")).count

    assert await their_cases() == 0
    grown = seva_import(stack, size)
    assert grown.returncode == 0, grown.stderr[-2000:]
    assert "15 new master records, 15 cases started" in grown.stdout
    again = seva_import(stack, size)
    assert again.returncode == 0 and "0 new master records, 0 cases started" in again.stdout
    assert await eventually(lambda: _at_least(their_cases, 15), what="the imported cases") == 15


async def _at_least(count, n: int):
    value = await count()
    return value if value >= n else 0
