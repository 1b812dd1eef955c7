"""What a service answers when it reads an employee's case and the case engine does not say: no such case is a
404 in words; the case engine down is an outage, a 503 with Retry-After (errors.py), never "no such employee"
(a 404 that sent officers to look for a mistake in the employee id) nor a 503 without Retry-After."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from temporalio.service import RPCError, RPCStatusCode

from services.applications.service import _case_status
from services.common.errors import ApiError
from services.verification.certificates import _case_scope

DOWN = RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")
MISSING = RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")


def _attributes_ctx(answer):
    async def case_attributes(employee_id: str):
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return SimpleNamespace(case_attributes=case_attributes)


async def test_a_certificate_asked_while_the_case_engine_is_down_is_an_outage_not_an_unknown_employee():
    with pytest.raises(RPCError):  # the service's handler answers it 503 with Retry-After
        await _case_scope(_attributes_ctx(DOWN), "EMP0000001")


async def test_a_certificate_for_an_employee_with_no_case_is_not_found():
    with pytest.raises(ApiError) as refused:
        await _case_scope(_attributes_ctx(None), "EMP0000001")
    assert refused.value.status == 404 and refused.value.code == "employee_not_found"


def _status_ctx(error: RPCError):
    class Handle:
        async def query(self, *args, **kwargs):
            raise error

    return SimpleNamespace(
        temporal=SimpleNamespace(get_workflow_handle=lambda workflow_id: Handle()),
        settings=SimpleNamespace(season_id="2026-27", retry_after_seconds=15),
    )


async def test_the_status_of_a_case_the_engine_cannot_read_is_an_outage_with_retry_after():
    with pytest.raises(ApiError) as refused:
        await _case_status(_status_ctx(DOWN), "EMP0000001")
    assert refused.value.status == 503 and refused.value.details == {"retry_after_seconds": 15}


async def test_the_status_of_a_case_that_does_not_exist_is_not_found():
    with pytest.raises(ApiError) as refused:
        await _case_status(_status_ctx(MISSING), "EMP0000001")
    assert refused.value.status == 404 and refused.value.code == "case_not_found"
