"""A signal can reach a case in the very task that starts its run: an event that races a new case (a report
of no OTP sent as the case is started), or one that arrives while a long case continues as new. Signal-with-start
puts it there for certain. The SDK runs signal handlers before the run method, so what the case starts from must be in place before
them (workflow.init), or the run would overwrite what the signal told it and the event would be lost."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from contract import CASES_TASK_QUEUE, REGISTRATION_CLOSE, CarriedCase, EventType, Stage
from workflows.case import STATE_BEFORE_SIGNALS, CaseWorkflow, Phase

from .conftest import record_history_if_asked, replay_failure, sleep_until
from .test_case_season import case_input, event, stage_of
from .test_remedy_holds_registration import reported


async def test_a_fault_reported_in_the_task_that_starts_the_case_holds_registration_open(env, season):
    cal = season.calendar
    handle = await env.client.start_workflow(
        CaseWorkflow.run,
        case_input("T-START-SIG-1"),
        id="case-T-START-SIG-1",
        task_queue=CASES_TASK_QUEUE,
        start_signal="case_event",
        start_signal_args=[reported(cal.registration_close - timedelta(days=1))],
    )
    await sleep_until(env, cal.registration_close + timedelta(days=1))
    assert await stage_of(handle) == Stage.AWAITING_REGISTRATION
    assert (await handle.query(CaseWorkflow.registration_hold)) is not None
    await handle.terminate("test done")


def waiting_for_the_application(cal) -> CarriedCase:
    """A registered case carried into a new run while it waits for the application."""
    return CarriedCase(
        phase=Phase.APPLICATION,
        stage=Stage.AWAITING_APPLICATION,
        next_step=REGISTRATION_CLOSE,
        history=[],
        missed=[],
        seen_events=[],
        registered=True,
        application=None,
        ddo_decision=None,
        post_id=None,
        order_approved=False,
        eligibility=None,
        resubmissions=0,
        resubmissions_seen=0,
        escalated=False,
        acts=1,
        announced_version=0,
        reminded=[],
        calendar=cal,
        shown_deadline=cal.registration_close,
        runs=1,
    )


async def continued_with_an_application(env, employee_id: str, cal):
    submitted = event(EventType.APPLICATION_SUBMITTED, application_no=f"SS-{employee_id}", post_code="DEO")
    handle = await env.client.start_workflow(
        CaseWorkflow.run,
        replace(case_input(employee_id), carried=waiting_for_the_application(cal)),
        id=f"case-{employee_id}",
        task_queue=CASES_TASK_QUEUE,
        start_signal="case_event",
        start_signal_args=[submitted],
    )
    return handle, submitted


async def test_an_application_heard_in_the_first_task_of_a_continued_run_is_kept(env, season):
    cal = season.calendar
    handle, submitted = await continued_with_an_application(env, "T-START-SIG-2", cal)
    await sleep_until(env, cal.registration_open + timedelta(days=1))
    assert await stage_of(handle) == Stage.AWAITING_DDO_VERIFICATION
    await handle.signal(CaseWorkflow.case_event, submitted)  # the redelivery is known, though heard before the run
    assert len(season.named("open_verification_task")) == 1
    await record_history_if_asked(handle, "case_signal_in_first_task")
    await handle.terminate("test done")


async def test_a_run_that_lost_the_signal_before_the_patch_replays_as_it_ran(env, season, monkeypatch):
    """A continued run on the workers before the patch overwrote the application heard in its first task and
    went on waiting; today's code must replay that history unchanged, not move it on (a nondeterminism)."""
    import temporalio.workflow

    cal = season.calendar
    real_patched = temporalio.workflow.patched
    monkeypatch.setattr(temporalio.workflow, "patched", lambda id_: id_ != STATE_BEFORE_SIGNALS and real_patched(id_))
    handle, _ = await continued_with_an_application(env, "T-START-SIG-OLD", cal)
    assert await stage_of(handle) == Stage.AWAITING_APPLICATION  # the defect, as the old workers ran it
    history = await handle.fetch_history()
    await handle.terminate("test done")
    monkeypatch.undo()
    failure = await replay_failure(history)
    assert failure is None, failure
