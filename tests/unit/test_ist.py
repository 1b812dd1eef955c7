"""Every date a person reads is in IST, whatever zone the machine's clock is set to: "registration opens on 24
Dec" was printed for a 25 Dec IST opening, lockout times were UTC, and the case's `_ist` added 5 h 30 to a
moment in any zone instead of converting it."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import pytest

from contract import IST
from workflows.case_state import in_ist as _ist


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Kolkata"])
def machine_zone(request):
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_the_case_writes_a_moment_in_ist_whatever_zone_it_was_given(machine_zone):
    opening = datetime(2025, 12, 25, 0, 0, tzinfo=IST)
    assert _ist(opening) == "25 Dec 2025 00:00 IST"
    assert _ist(opening.astimezone(UTC)) == "25 Dec 2025 00:00 IST"
    assert _ist(datetime(2025, 12, 24, 18, 30)) == "25 Dec 2025 00:00 IST"  # a naive moment is UTC, not local
