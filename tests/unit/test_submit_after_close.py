"""A submission after the calendar's close asks the employee's case whether registration is held open for them
(a Temporal query). It asked while holding a database transaction and its connection: in the post-close surge,
when the case engine is slowest, a slow answer held a connection per employee and emptied the pool. The database
and the case are faked here at their boundaries; what is tested is where the question is asked."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from contract import IST, OFFICIAL_2025_26, RegistrationHold
from services.applications import service
from services.common.errors import ApiError


class _Db:
    """A pool and its one connection: it knows whether a transaction is open."""

    def __init__(self) -> None:
        self.in_transaction = False

    @asynccontextmanager
    async def acquire(self):
        yield self

    @asynccontextmanager
    async def transaction(self):
        self.in_transaction = True
        try:
            yield
        finally:
            self.in_transaction = False


async def test_the_case_is_asked_before_the_transaction_and_the_close_said_in_ist(monkeypatch):
    now = datetime.now(UTC)
    calendar = replace(
        OFFICIAL_2025_26, registration_open=now - timedelta(days=30), registration_close=now - timedelta(days=1)
    )
    db = _Db()
    asked_in_transaction: list[bool] = []

    async def calendar_in_force(conn, season_id):
        return calendar

    async def registration_hold(ctx, employee_id):
        asked_in_transaction.append(db.in_transaction)
        return RegistrationHold(reported_at=None, corrected_at=None)

    monkeypatch.setattr(service, "calendar_in_force", calendar_in_force)
    monkeypatch.setattr(service, "registration_hold", registration_hold, raising=False)
    ctx = SimpleNamespace(pool=db, settings=SimpleNamespace(season_id="2025-26"))
    with pytest.raises(ApiError) as refused:
        await service._submit(ctx, "EMP0000001", None)  # type: ignore[arg-type]
    assert asked_in_transaction == [False]
    assert refused.value.code == "registration_closed"
    assert f"{calendar.registration_close.astimezone(IST):%d %b %Y %H:%M} IST" in refused.value.message
