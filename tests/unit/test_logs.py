"""Log lines are JSON with the service and the trace and span ids of the span they were written in; text when
asked; an unknown format refuses to start."""

from __future__ import annotations

import io
import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider

from services.common.logs import configure_logging


@pytest.fixture
def restore_root():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level


def test_a_line_is_json_with_the_service_and_the_trace_it_was_written_in(restore_root, monkeypatch):
    monkeypatch.delenv("SEVA_LOG_FORMAT", raising=False)
    out = io.StringIO()
    configure_logging("applications", stream=out)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("submit") as span:
        logging.getLogger("seva.applications").warning("refused %s: %s", "submit", "आवेदन बंद")
    logging.getLogger("seva.applications").warning("outside a span")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    context = span.get_span_context()
    assert first["service"] == "applications" and first["level"] == "WARNING" and first["logger"] == "seva.applications"
    assert first["message"] == "refused submit: आवेदन बंद"
    assert first["trace_id"] == format(context.trace_id, "032x") and first["span_id"] == format(context.span_id, "016x")
    assert "trace_id" not in second and second["message"] == "outside a span"


def test_text_for_a_terminal_and_no_unknown_format(restore_root, monkeypatch):
    monkeypatch.setenv("SEVA_LOG_FORMAT", "text")
    out = io.StringIO()
    configure_logging("otp", stream=out)
    logging.getLogger("seva.otp").warning("plain")
    assert out.getvalue().rstrip().endswith("WARNING seva.otp plain")
    monkeypatch.setenv("SEVA_LOG_FORMAT", "xml")
    with pytest.raises(SystemExit, match="SEVA_LOG_FORMAT"):
        configure_logging("otp")


def test_the_servers_own_lines_come_through_the_same_handler(restore_root, monkeypatch):
    monkeypatch.delenv("SEVA_LOG_FORMAT", raising=False)
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_error.handlers = [logging.StreamHandler(io.StringIO())]  # as uvicorn leaves it
    uvicorn_error.propagate = False
    out = io.StringIO()
    configure_logging("orders", stream=out)
    uvicorn_error.warning("server line")
    assert json.loads(out.getvalue())["message"] == "server line"
