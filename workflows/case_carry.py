"""Continuing as new: at a safe point (a daily look at the calendar while it waits on a step), a long run
carries what the case knows into a new run, so its history stays short however long the season runs. Not the
service record: it holds personal data, and the case reads it again when it needs it."""

from __future__ import annotations

import dataclasses

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contract import CarriedCase, CaseInput

from workflows.case_checks import CaseChecks
from workflows.case_facts import CaseFacts, reported_before


class CaseCarry(CaseChecks):
    """What a run takes in, and what it carries on."""

    def _continue_if_long(self) -> None:
        assert self._input is not None
        if workflow.info().get_current_history_length() < self._input.continue_after_events:
            return
        f = self._facts
        carried = CarriedCase(
            phase=self._phase,
            stage=self._stage,
            next_step=self._next_step,
            history=list(self._history),
            missed=list(self._missed),
            seen_events=sorted(f.seen_events),
            registered=f.registered,
            application=f.application,
            ddo_decision=f.ddo_decision,
            post_id=f.post_id,
            order_approved=f.order_approved,
            eligibility=self._eligibility,
            resubmissions=f.resubmissions,
            resubmissions_seen=self._resubmissions_seen,
            escalated=self._escalated,
            acts=f.acts,
            announced_version=f.announced_version,
            reminded=sorted(self._reminded),
            calendar=self._calendar,
            shown_deadline=self._shown_deadline,
            runs=self._runs,
            fault_reported_at=f.fault_reported_at,
            record_corrected_at=f.record_corrected_at,
        )
        workflow.continue_as_new(dataclasses.replace(self._input, carried=carried))

    def _take_in(self, case: CaseInput) -> None:
        """What this run starts from: the case carried from the run before, or a new case's input."""
        self._input = case
        if case.carried is not None:
            self._restore(case.carried)
        elif case.no_otp_reported_at is not None:
            # started on a record added for a person who reported in time: registration is held open for them
            self._facts = reported_before(self._facts, case.no_otp_reported_at, case.record_added_at)

    def _restore(self, c: CarriedCase) -> None:
        self._phase, self._stage, self._next_step = c.phase, c.stage, c.next_step
        self._history, self._missed = list(c.history), list(c.missed)
        # signals of the first task were heard before this (state-before-signals takes in first, so none were)
        self._facts = CaseFacts(
            seen_events=frozenset(c.seen_events),
            registered=c.registered,
            application=c.application,
            resubmissions=c.resubmissions,
            ddo_decision=c.ddo_decision,
            post_id=c.post_id,
            order_approved=c.order_approved,
            acts=c.acts,
            announced_version=c.announced_version,
            fault_reported_at=c.fault_reported_at,
            record_corrected_at=c.record_corrected_at,
        )
        self._eligibility = c.eligibility
        self._resubmissions_seen, self._escalated = c.resubmissions_seen, c.escalated
        self._reminded, self._calendar, self._shown_deadline = set(c.reminded), c.calendar, c.shown_deadline
        self._runs = c.runs + 1
        self._note(f"continued as new (run {self._runs}) to keep the history short")
