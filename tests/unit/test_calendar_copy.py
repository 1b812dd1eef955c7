"""The cases worker's calendar copy: one request to the owner per wave, a fresh read after a change.
The applications service is faked at its HTTP boundary; the copy itself is the real one."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest

from contract import OFFICIAL_2025_26
from workflows.calendar_copy import AS_CALENDAR, CalendarCopy
from workflows.event_router import event_router


class Owner:
    """GET /calendar as the applications service answers it."""

    def __init__(self):
        self.requests = 0
        self.version = 1

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if request.url.params["season_id"] != "2025-26":
            return httpx.Response(404, json={"code": "season_not_found"})
        return httpx.Response(
            200, json=AS_CALENDAR.dump_python(replace(OFFICIAL_2025_26, version=self.version), mode="json")
        )


def copy_of(owner: Owner, ttl: float = 60.0) -> CalendarCopy:
    return CalendarCopy("http://applications", ttl, httpx.AsyncClient(transport=httpx.MockTransport(owner)))


async def test_a_wave_of_thousands_of_reads_asks_the_owner_once():
    owner = Owner()
    copy = copy_of(owner)
    calendars = await asyncio.gather(*(copy.get("2025-26") for _ in range(2000)))
    assert owner.requests == 1
    assert {c.version for c in calendars} == {1}
    assert calendars[0].registration_close == OFFICIAL_2025_26.registration_close


async def test_a_calendar_changed_event_makes_the_next_read_go_to_the_owner():
    owner = Owner()
    copy = copy_of(owner)
    assert (await copy.get("2025-26")).version == 1
    owner.version = 2
    assert (await copy.get("2025-26")).version == 1  # within the TTL the copy answers
    await event_router(client=None, season_id="test", calendar=copy)(  # type: ignore[arg-type]  # reaches no case
        {
            "type": "calendar.changed",
            "employee_id": "season:2025-26",
            "event_id": "e1",
            "data": {"season_id": "2025-26"},
        }
    )
    assert (await copy.get("2025-26")).version == 2
    assert owner.requests == 2


async def test_the_copy_expires_after_its_ttl_even_if_no_event_arrives():
    owner = Owner()
    copy = copy_of(owner, ttl=0.0)
    await copy.get("2025-26")
    owner.version = 2
    assert (await copy.get("2025-26")).version == 2


async def test_an_unknown_season_is_an_error_not_a_calendar():
    copy = copy_of(Owner())
    with pytest.raises(httpx.HTTPStatusError):
        await copy.get("1999-00")
