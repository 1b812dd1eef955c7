"""OpenTelemetry: one tracer provider per process, exported over OTLP when configured, else to a file."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from .settings import Settings

_configured = False


class JsonLinesFileExporter(SpanExporter):
    """Spans as JSON lines: enough to follow a trace id on a machine with no collector."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path, self._lock = path, threading.Lock()

    def export(self, spans: Any) -> SpanExportResult:
        lines = []
        for s in spans:
            ctx = s.get_span_context()
            lines.append(
                json.dumps(
                    {
                        "name": s.name,
                        "trace_id": format(ctx.trace_id, "032x"),
                        "span_id": format(ctx.span_id, "016x"),
                        "parent_id": format(s.parent.span_id, "016x") if s.parent else None,
                        "service": s.resource.attributes.get("service.name"),
                        "start": s.start_time,
                        "end": s.end_time,
                    }
                )
            )
        with self._lock, self._path.open("a") as f:
            f.write("\n".join(lines) + "\n")
        return SpanExportResult.SUCCESS


def setup_tracing(service_name: str, settings: Settings) -> None:
    """The provider is Temporal's replay-safe one, so workflow code can take part in traces."""
    global _configured
    if _configured:
        return
    from temporalio.contrib.opentelemetry import create_tracer_provider

    provider = create_tracer_provider(resource=Resource.create({"service.name": service_name}))
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint)))
    else:
        path = settings.trace_file or settings.data_dir / "traces" / f"{service_name}.jsonl"
        provider.add_span_processor(BatchSpanProcessor(JsonLinesFileExporter(Path(path))))
    trace.set_tracer_provider(provider)
    _configured = True
