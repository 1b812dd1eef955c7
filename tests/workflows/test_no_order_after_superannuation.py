"""No order after the employee's service has ended: age was checked at submission only, and an order issued weeks
later secured service "up to" a superannuation date already past. At each officer's act and before the order, a
case whose employee is past the superannuation date closes with that reason, its officers told."""

from __future__ import annotations

# (The file sorts before test_signals_with_the_start: its terminations stall the time-skipping clock for later tests.)
from datetime import date, datetime, time, timedelta

from contract import IST, ORDER_ISSUE, EventType, Stage, superannuation_date
from workflows.case import CaseWorkflow

from .conftest import record_history_if_asked, sleep_until
from .test_case_season import event, register_and_apply, start


def born_attaining_58_on(day: date) -> str:
    """The date of birth of someone who attains 58 on `day` (the day before the 58th birthday)."""
    birthday = day + timedelta(days=1)
    return birthday.replace(year=birthday.year - 58).isoformat()


def at_ist(day: date) -> datetime:
    """Ten in the morning, in Haryana, on `day`."""
    return datetime.combine(day, time(10, 0), tzinfo=IST)


async def test_an_employee_who_reaches_superannuation_between_submission_and_order_gets_no_order(env, season):
    cal = season.calendar
    attains = (cal.registration_open + timedelta(days=20)).astimezone(IST).date()
    season.born["T-RETIRES-1"] = born_attaining_58_on(attains)
    last_day = superannuation_date(date.fromisoformat(season.born["T-RETIRES-1"]))
    assert last_day < cal.deadline(ORDER_ISSUE).astimezone(IST).date()  # the order was due after it

    handle = await start(env, "T-RETIRES-1")
    await sleep_until(env, cal.registration_open + timedelta(days=3))
    await register_and_apply(handle, "SS-T-RET-1", post_code="DEO")
    await sleep_until(env, cal.registration_open + timedelta(days=4))
    await handle.signal(CaseWorkflow.case_event, event(EventType.VERIFICATION_DECIDED, decision="verified"))
    await sleep_until(env, cal.registration_open + timedelta(days=5))
    await handle.signal(CaseWorkflow.case_event, event(EventType.POST_CREATED, post_id="SNP-RET-1"))
    await sleep_until(env, cal.registration_open + timedelta(days=6))
    assert (await handle.query(CaseWorkflow.status)).stage == Stage.AWAITING_HOD_APPROVAL  # still in service
    # the HoD approves two days after the employee's last day of service
    await sleep_until(env, at_ist(last_day + timedelta(days=2)))
    await handle.signal(CaseWorkflow.case_event, event(EventType.ORDER_APPROVED))

    result = await handle.result()
    await record_history_if_asked(handle, "case_superannuated_before_order")
    assert result.stage == Stage.SUPERANNUATED
    assert result.order_no is None and not season.named("issue_service_security_order")
    assert f"reached superannuation on {last_day:%d %b %Y}" in result.history[-1].note
    # the DDO's queue put the case first (the employee retires before the season's last deadline)
    [task] = season.named("open_verification_task")
    assert task.take_first and task.superannuation_on == last_day.isoformat()
    # every officer on the case is told, and the desks drop it; the employee hears why
    [closure] = season.named("close_verification_task")
    assert closure.officer_refs == ["DDO-HEALTH-HISAR-1", "finance:HEALTH", "hod:HEALTH"]
    assert closure.reason_code == "superannuated" and closure.application_no == "SS-T-RET-1"
    assert season.named("close_post_request") == [closure]
    assert [s.template for s in season.named("send_sms")][-1] == "case_superannuated"


async def test_an_employee_whose_service_ends_before_the_ddo_verifies_is_closed_at_that_step(env, season):
    """Closed when the DDO acts: no post is requested from Finance, and Finance is not told of a case never theirs."""
    cal = season.calendar
    attains = (cal.registration_open + timedelta(days=10)).astimezone(IST).date()
    season.born["T-RETIRES-2"] = born_attaining_58_on(attains)
    last_day = superannuation_date(date.fromisoformat(season.born["T-RETIRES-2"]))

    handle = await start(env, "T-RETIRES-2")
    await sleep_until(env, cal.registration_open + timedelta(days=3))
    await register_and_apply(handle, "SS-T-RET-2", post_code="DEO")
    await sleep_until(env, at_ist(last_day + timedelta(days=1)))
    await handle.signal(CaseWorkflow.case_event, event(EventType.VERIFICATION_DECIDED, decision="verified"))

    result = await handle.result()
    assert result.stage == Stage.SUPERANNUATED
    assert not season.named("open_post_request") and not season.named("issue_service_security_order")
    [closure] = season.named("close_verification_task")
    assert closure.officer_refs == ["DDO-HEALTH-HISAR-1", "hod:HEALTH"]


async def test_an_employee_still_in_service_on_the_day_of_the_order_gets_it(env, season):
    """Attaining 58 is not the end of service: the last day of that month is. An order within it is lawful."""
    cal = season.calendar
    attains = (cal.registration_open + timedelta(days=6)).astimezone(IST).date()
    season.born["T-RETIRES-3"] = born_attaining_58_on(attains)
    last_day = superannuation_date(date.fromisoformat(season.born["T-RETIRES-3"]))

    handle = await start(env, "T-RETIRES-3")
    await sleep_until(env, cal.registration_open + timedelta(days=3))
    await register_and_apply(handle, "SS-T-RET-3", post_code="DEO")
    await handle.signal(CaseWorkflow.case_event, event(EventType.VERIFICATION_DECIDED, decision="verified"))
    await handle.signal(CaseWorkflow.case_event, event(EventType.POST_CREATED, post_id="SNP-RET-3"))
    # the HoD approves on the employee's last day of service (IST)
    await sleep_until(env, at_ist(last_day))
    await handle.signal(CaseWorkflow.case_event, event(EventType.ORDER_APPROVED))

    result = await handle.result()
    assert result.stage == Stage.ORDER_ISSUED
    assert not season.named("close_verification_task")
