"""Which failures a consumer waits out and which it parks (services/common/errors.is_transient): the rule that
decides whether one message may hold a partition for half an hour or for a second."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from temporalio.service import RPCError, RPCStatusCode

from services.common.errors import ApiError, Transient, is_transient


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError("refused"),
        ConnectionResetError("reset"),
        TimeoutError(),
        asyncpg.CannotConnectNowError("starting up"),
        asyncpg.DeadlockDetectedError("deadlock"),
        httpx.ConnectError("no route"),
        httpx.ReadTimeout("slow"),
        KafkaConnectionError(),
        KafkaTimeoutError(),
        RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b""),
        RPCError("transport error", RPCStatusCode.UNKNOWN, b""),  # the Temporal server down: its client's words
        ApiError(503, "temporarily_unavailable", "down"),
        Transient("the SMS gateway answered 503"),
    ],
)
def test_a_part_down_or_slow_is_waited_out(exc):
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("nobody thought of this"),
        AttributeError("'NoneType' object has no attribute 'get'"),
        ZeroDivisionError(),
        asyncpg.UniqueViolationError("duplicate key"),
        RPCError("not found", RPCStatusCode.NOT_FOUND, b""),
        RPCError("bad", RPCStatusCode.INVALID_ARGUMENT, b""),
        RPCError("workflow task failed: a bug", RPCStatusCode.UNKNOWN, b""),
        ApiError(409, "conflict", "already"),
    ],
)
def test_anything_else_is_unforeseen(exc):
    assert not is_transient(exc)


def test_a_wrapper_raised_from_an_outage_is_the_outage():
    try:
        try:
            raise ConnectionResetError("reset")
        except ConnectionResetError as cause:
            raise RuntimeError("the handler gave up") from cause
    except RuntimeError as wrapped:
        assert is_transient(wrapped)
