"""An employee who reports in time that no OTP comes ("Why no OTP?" found a fault on the record) is not shut out by
the officers' remedy: registration stays open for them until the record is corrected and then for the calendar's
remedy_grace_days, never past DDO verification (contract.SeasonCalendar.registration_close_for)."""

from __future__ import annotations

from datetime import timedelta

from contract import CaseStatus, EventType, Stage
from workflows.case import CaseWorkflow

from .conftest import record_history_if_asked, replay_failure, sleep_until
from .test_case_season import event, register_and_apply, stage_of, start


async def closes_for(handle, cal):
    """What the applications service asks the case, and applies to the calendar in force."""
    hold = await handle.query(CaseWorkflow.registration_hold)
    return cal.registration_close_for(hold.reported_at, hold.corrected_at) if hold else cal.registration_close


def reported(at) -> object:
    return event(EventType.NO_OTP_REPORTED, causes=["record_has_different_mobile"], reported_at=at.isoformat())


async def test_a_fault_reported_before_the_close_holds_registration_open_until_the_correction_and_grace(env, season):
    cal = season.calendar
    handle = await start(env, "T-HELD-1")
    await sleep_until(env, cal.registration_close - timedelta(days=2))
    await handle.signal(CaseWorkflow.case_event, reported(cal.registration_close - timedelta(days=2)))
    # the calendar's close passes while the DDO's certificate and the data owner's correction are awaited
    await sleep_until(env, cal.registration_close + timedelta(days=3))
    status: CaseStatus = await handle.query(CaseWorkflow.status)
    assert status.stage == Stage.AWAITING_REGISTRATION
    assert status.registration_held and status.next_deadline == cal.ddo_verification
    assert await closes_for(handle, cal) == cal.ddo_verification
    # the correction comes: the employee has the grace from then on, and the case says so at once
    await handle.signal(
        CaseWorkflow.case_event, event(EventType.RECORD_CORRECTED, data_owner="HKRN", fields=["mobile"])
    )
    await sleep_until(env, cal.registration_close + timedelta(days=3, hours=1))
    corrected = next(h.at for h in (await handle.query(CaseWorkflow.status)).history if "corrected" in h.note)
    closes = await closes_for(handle, cal)
    assert closes == corrected + timedelta(days=cal.remedy_grace_days)
    assert (await handle.query(CaseWorkflow.status)).next_deadline == closes
    await sleep_until(env, cal.registration_close + timedelta(days=6))
    await register_and_apply(handle, "SS-T-HELD-1", post_code="DEO")
    await sleep_until(env, cal.registration_close + timedelta(days=7))
    assert await stage_of(handle) == Stage.AWAITING_DDO_VERIFICATION
    notes = [h.note for h in (await handle.query(CaseWorkflow.status)).history]
    assert "the employee reported no OTP; the record needs: record_has_different_mobile" in notes
    await record_history_if_asked(handle, "case_remedy_held_registration")
    await handle.terminate("test done")


async def test_the_hold_ends_at_the_grace_after_the_correction(env, season):
    cal = season.calendar
    handle = await start(env, "T-HELD-2")
    await handle.signal(CaseWorkflow.case_event, reported(cal.registration_close - timedelta(days=1)))
    await sleep_until(env, cal.registration_close + timedelta(days=1))
    await handle.signal(
        CaseWorkflow.case_event, event(EventType.RECORD_CORRECTED, data_owner="HKRN", fields=["mobile"])
    )
    await sleep_until(env, cal.registration_close + timedelta(days=1 + cal.remedy_grace_days, hours=1))
    assert await stage_of(handle) == Stage.LAPSED_UNREGISTERED
    await handle.terminate("test done")


async def test_a_correction_that_never_comes_holds_registration_only_until_ddo_verification(env, season):
    cal = season.calendar
    handle = await start(env, "T-HELD-3")
    await handle.signal(CaseWorkflow.case_event, reported(cal.registration_close - timedelta(hours=1)))
    await sleep_until(env, cal.ddo_verification - timedelta(hours=1))
    assert await stage_of(handle) == Stage.AWAITING_REGISTRATION
    await sleep_until(env, cal.ddo_verification + timedelta(hours=1))
    assert await stage_of(handle) == Stage.LAPSED_UNREGISTERED
    await handle.terminate("test done")


async def test_a_fault_reported_after_the_close_holds_nothing(env, season):
    cal = season.calendar
    handle = await start(env, "T-HELD-4")
    await sleep_until(env, cal.registration_close + timedelta(hours=2))
    assert await stage_of(handle) == Stage.LAPSED_UNREGISTERED
    await handle.signal(CaseWorkflow.case_event, reported(cal.registration_close + timedelta(hours=1)))
    await handle.signal(
        CaseWorkflow.case_event, event(EventType.RECORD_CORRECTED, data_owner="HKRN", fields=["mobile"])
    )
    await handle.signal(CaseWorkflow.case_event, event(EventType.OTP_VERIFIED))
    await sleep_until(env, cal.registration_close + timedelta(days=1))
    status: CaseStatus = await handle.query(CaseWorkflow.status)
    assert status.stage == Stage.LAPSED_UNREGISTERED and not status.registration_held
    assert (await handle.query(CaseWorkflow.registration_hold)).reported_at > cal.registration_close
    assert await closes_for(handle, cal) == cal.registration_close
    await handle.terminate("test done")


async def test_a_case_that_heard_the_report_before_the_patch_replays_as_it_ran(env, season, monkeypatch):
    """A case run by the code before the patch ignored the report and lapsed at the close; today's code must
    replay that history unchanged (workflow.patched sees no marker there), not hold it open."""
    import temporalio.workflow

    cal = season.calendar
    monkeypatch.setattr(temporalio.workflow, "patched", lambda _id: False)  # the workers before the patch
    handle = await start(env, "T-HELD-OLD")
    await handle.signal(CaseWorkflow.case_event, reported(cal.registration_close - timedelta(days=1)))
    await sleep_until(env, cal.registration_close + timedelta(days=1))
    assert await stage_of(handle) == Stage.LAPSED_UNREGISTERED
    history = await handle.fetch_history()
    await handle.terminate("test done")
    monkeypatch.undo()
    failure = await replay_failure(history)
    assert failure is None, failure


async def test_a_case_started_on_a_record_added_after_the_close_for_one_who_reported_in_time_is_open(env, season):
    """A person in no database asked "Why no OTP?" before the close; their record was added (on a certificate)
    after it. Their case starts with both moments and does not lapse: it waits for the registration."""
    from dataclasses import replace

    from contract import CASES_TASK_QUEUE

    from .test_case_season import case_input

    cal = season.calendar
    await sleep_until(env, cal.registration_close + timedelta(days=2))
    added = cal.registration_close + timedelta(days=2)
    handle = await env.client.start_workflow(
        CaseWorkflow.run,
        replace(
            case_input("T-ADDED-1"),
            no_otp_reported_at=cal.registration_close - timedelta(days=3),
            record_added_at=added,
        ),
        id="case-T-ADDED-1",
        task_queue=CASES_TASK_QUEUE,
    )
    await sleep_until(env, cal.registration_close + timedelta(days=3))
    status: CaseStatus = await handle.query(CaseWorkflow.status)
    assert status.stage == Stage.AWAITING_REGISTRATION and status.registration_held
    assert status.next_deadline == added + timedelta(days=cal.remedy_grace_days)
    await register_and_apply(handle, "SS-T-ADDED-1", post_code="DEO")
    await sleep_until(env, cal.registration_close + timedelta(days=4))
    assert await stage_of(handle) == Stage.AWAITING_DDO_VERIFICATION
    await handle.terminate("test done")
