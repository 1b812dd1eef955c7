"""`make bench` keeps working: a tiny run on its own stack produces every figure beside its baseline.
Nothing here judges speed (that is the bench's job, read as ratios); it only proves the bench runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack


def test_a_tiny_bench_produces_the_whole_table(tmp_path):
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "seva"),
            "bench",
            "--cases",
            "10",
            "--extension-cases",
            "20",
            "--api-seconds",
            "1",
            "--concurrency",
            "4",
            "--lead-seconds",
            "5",
            "--out-dir",
            str(tmp_path),
            "--engine",
            "dev",  # make test runs on the dev server; `make bench` on the production engine
            "--surge-users",
            "2",
            "--surge-step-seconds",
            "30",  # one employee's whole journey (14 pages, a second's pause between) fits in a step
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = (tmp_path / "latest.md").read_text()
    for measure in (
        "season throughput, 10 cases",
        "extension: until all 20 open cases",
        "extension: until all 20 lapsed cases reopened",
        "API OTP request: requests/s",
        "API OTP verify: p99",
        "API application submit: p50",
        "cases worker memory at 20 open cases",
        "PostgreSQL bytes per case at 10 cases",
        "queue page, 50 of 1,000 rows, p50 (API beside)",
        "employee dashboard, p50 (API beside)",
        "API OTP request p99 during the wave (vs idle, same run)",
        "extension: from the old deadline until all 20 re-armed",
        "surge: employees through the portal per hour, sustained (2 users)",
        "surge page p95 at that rate: submit (then the receipt)",
        "profile of the busiest Python process",
    ):
        assert measure in table, f"{measure!r} missing from\n{table}"
    assert "0 of 20 lapsed under the old date" in table
    assert "requests failed" not in table
    profile = next(tmp_path.glob("*-season-profile.md")).read_text()
    assert "## orders:" in profile and "| own | within | function |" in profile
