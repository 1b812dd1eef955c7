"""The cases worker's copy of the season calendar, read by a local activity when a case's timer fires.

Every case of a season waits on the same deadlines, so their timers fire in waves (120,000 at the
registration close, and again at every extension). Reading the calendar through a regular activity costs
each case two workflow tasks and an activity task on the Temporal server; a local activity answering
from memory costs one workflow task. The applications service still owns the calendar: the copy is its
public answer (GET /calendar), fetched once per `ttl` seconds at most, and dropped at once when
a `calendar.changed` event arrives. A case confirms a passed deadline with the owner before acting on
it (workflows/case.py), so a copy a few seconds old can delay a wake-up, never lapse a case wrongly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
from pydantic import TypeAdapter
from temporalio import activity

from contract import Activities, SeasonCalendar

AS_CALENDAR = TypeAdapter(SeasonCalendar)


class CalendarCopy:
    def __init__(self, applications_url: str, ttl: float = 5.0, http: httpx.AsyncClient | None = None):
        self._url = f"{applications_url.rstrip('/')}/calendar"
        self._ttl = ttl
        # idle connections are dropped before uvicorn's 5 s keep-alive ends: reusing one the server is closing
        # fails the read (ReadError), and a read every 5 s is exactly that race
        self._http = http or httpx.AsyncClient(timeout=5.0, limits=httpx.Limits(keepalive_expiry=2.0))
        self._copies: dict[str, tuple[float, SeasonCalendar]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetches = 0

    async def get(self, season_id: str) -> SeasonCalendar:
        copy = self._fresh(season_id)
        if copy:
            return copy
        # one fetch per season at a time: a wave of thousands of timers makes one request, not thousands
        async with self._locks.setdefault(season_id, asyncio.Lock()):
            copy = self._fresh(season_id)
            if copy:
                return copy
            fetched_at = time.monotonic()
            r = await self._http.get(self._url, params={"season_id": season_id})
            r.raise_for_status()
            self.fetches += 1
            calendar = AS_CALENDAR.validate_python(r.json())
            self._copies[season_id] = (fetched_at, calendar)
            return calendar

    def forget(self, season_id: str) -> None:
        """A new calendar version exists: the next read goes to the owner."""
        self._copies.pop(season_id, None)

    def _fresh(self, season_id: str) -> SeasonCalendar | None:
        entry = self._copies.get(season_id)
        if entry and time.monotonic() - entry[0] < self._ttl:
            return entry[1]
        return None

    def activity(self) -> Callable[[str], Awaitable[SeasonCalendar]]:
        @activity.defn(name=Activities.READ_SEASON_CALENDAR.name)
        async def read_season_calendar(season_id: str) -> SeasonCalendar:
            """The calendar in force, from the worker's copy (a local activity of the case)."""
            return await self.get(season_id)

        return read_season_calendar

    async def close(self) -> None:
        await self._http.aclose()
