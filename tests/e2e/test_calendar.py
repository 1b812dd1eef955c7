"""The administrator extends a deadline through the API and the `seva` CLI: a new version with who, when
and why; a date in the past or out of order is refused with a clear error."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from contract import IST

from .helpers import assert_error, officer_headers

pytestmark = pytest.mark.stack


async def test_extensions_are_versioned_and_bad_dates_refused(stack, http):
    base = stack.url("applications")
    admin = await officer_headers(stack, http, "ADMIN-HR")
    current = (await http.get(f"{base}/calendar")).json()
    close = datetime.fromisoformat(current["registration_close"])
    ddo = datetime.fromisoformat(current["ddo_verification"])

    def change(step, when, reason="registration extended by the state"):
        return {"step": step, "new_deadline": when.isoformat(), "reason": reason}

    later = (close + timedelta(days=5)).astimezone(IST)
    r = await http.post(f"{base}/calendar/changes", json=change("registration_close", later), headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == current["version"] + 1 and r.json()["changed_by"] == "ADMIN-HR"
    assert (await http.get(f"{base}/calendar")).json()["registration_close"] == r.json()["registration_close"]

    assert_error(
        await http.post(
            f"{base}/calendar/changes",
            headers=admin,
            json=change("registration_close", datetime.now(IST) - timedelta(hours=1)),
        ),
        422,
        "deadline_in_past",
    )
    assert_error(
        await http.post(
            f"{base}/calendar/changes", headers=admin, json=change("ddo_verification", later - timedelta(days=1))
        ),
        422,
        "deadline_before_earlier_step",
    )
    assert_error(
        await http.post(
            f"{base}/calendar/changes", headers=admin, json=change("registration_close", ddo + timedelta(days=1))
        ),
        422,
        "deadline_after_later_step",
    )
    assert_error(
        await http.post(
            f"{base}/calendar/changes",
            headers=admin,
            json={**change("registration_close", later), "new_deadline": "2030-01-01T10:00:00"},
        ),
        422,
        "timezone_required",
    )
    hod = await officer_headers(stack, http, "HOD-HEALTH")
    assert_error(
        await http.post(f"{base}/calendar/changes", json=change("registration_close", later), headers=hod),
        403,
        "forbidden",
    )

    cli = subprocess.run(
        [
            str(Path(sys.executable).parent / "seva"),
            "calendar",
            "extend",
            "--step",
            "registration_close",
            "--to",
            (later + timedelta(days=1)).isoformat(),
            "--reason",
            "second extension (CLI)",
            "--api",
            base,
            "--issuer",
            stack.oidc_issuer,
        ],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert f"version {current['version'] + 2}" in cli.stdout
    refused = subprocess.run(
        [
            str(Path(sys.executable).parent / "seva"),
            "calendar",
            "extend",
            "--step",
            "registration_close",
            "--to",
            "2020-01-01T00:00:00+05:30",
            "--reason",
            "a typo",
            "--api",
            base,
            "--issuer",
            stack.oidc_issuer,
        ],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1 and "deadline_in_past" in refused.stderr
    versions = (await http.get(f"{base}/calendar/versions")).json()
    assert [v["reason"] for v in versions[-2:]] == ["registration extended by the state", "second extension (CLI)"]
    in_force = (await http.get(f"{base}/calendar")).json()
    assert in_force["version"] == versions[-1]["version"]
    assert in_force["registration_close"] == versions[-1]["registration_close"]
    assert_error(await http.get(f"{base}/calendar", params={"season_id": "1999-00"}), 404, "season_not_found")


async def test_an_escalation_window_of_a_fraction_of_a_day_is_stored_as_it_was_given(stack):
    """The simulator's compressed season has escalation windows of minutes; the column was an integer (0.01 of a
    day stored as 0, refused by its check), so the simulator ran with a whole day and escalation never showed."""
    from dataclasses import replace

    from contract import OFFICIAL_2025_26, shifted
    from ops.database import put_calendar
    from services.applications.calendar import calendar_in_force
    from services.common.db import create_pool

    pool = await create_pool(stack.database_url)
    try:
        compressed = replace(shifted(OFFICIAL_2025_26, "test-fraction", datetime.now(IST)), escalation_days=0.01)
        await put_calendar(pool, compressed, "test", "a compressed season")
        async with pool.acquire() as conn:
            assert (await calendar_in_force(conn, "test-fraction")).escalation_days == pytest.approx(0.01)
    finally:
        await pool.close()
