"""Every process's log lines: JSON, one object a line, with the service, the level, the logger, the message and
the trace and span ids of the request or event being handled (so that a line leads to its trace, and a trace
to every line it wrote); plain text for a developer's terminal (`SEVA_LOG_FORMAT=text`).

python-json-logger writes the JSON; OpenTelemetry's current span gives the ids. Nothing personal is added here:
what a line says is the caller's message, held to the same rule as ever (the leak scans read these files)."""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

FORMATS = ("json", "text")
TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# uvicorn configures its own loggers and text handlers before the app is imported: they go through ours
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class TraceIds(logging.Filter):
    """The service, and the current span's trace and span ids (absent outside a span), on every record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True


def log_format() -> str:
    chosen = os.environ.get("SEVA_LOG_FORMAT", "json")
    if chosen not in FORMATS:
        raise SystemExit(f"SEVA_LOG_FORMAT is {chosen!r}: it must be one of {', '.join(FORMATS)}")
    return chosen


def configure_logging(service: str, level: int = logging.WARNING, stream: TextIO | None = None) -> logging.Handler:
    """The root logger writes JSON lines (or text) to stderr; `seva.*` at INFO. Returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format() == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                json_ensure_ascii=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT))
    handler.addFilter(TraceIds(service))
    root = logging.getLogger()
    # ours replaces a plain stream handler (a second call, or a default one); any other stays (a test's capture)
    root.handlers = [h for h in root.handlers if type(h) is not logging.StreamHandler] + [handler]
    root.setLevel(level)
    logging.getLogger("seva").setLevel(logging.INFO)
    logging.captureWarnings(True)  # a library's warning is a line like any other, not raw text on stderr
    for name in SERVER_LOGGERS:
        server = logging.getLogger(name)
        server.handlers = []
        server.propagate = True
    return handler
