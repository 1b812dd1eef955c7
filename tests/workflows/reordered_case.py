"""The case with one step's commands in another order (the order step reads the service record before waiting
for the HoD, not after): the replay test must fail on it (tests/workflows/test_replay.py). In a module of its own
so the workflow sandbox imports nothing of the tests but this."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contract import Activities, CaseInput, CaseStatus

from workflows.case import CaseWorkflow


@workflow.defn(name="CaseWorkflow")
class Reordered(CaseWorkflow):
    @workflow.run
    async def run(self, case: CaseInput) -> CaseStatus:
        return await super().run(case)

    async def _approval_and_order(self, resume: int) -> CaseStatus:
        assert self._input is not None
        self._record = await self._activity(Activities.GET_SERVICE_RECORD, self._input.employee_id)
        return await super()._approval_and_order(resume)
