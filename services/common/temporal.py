"""The Temporal client every process uses, with tracing carried into workflows and activities."""

from __future__ import annotations

from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.contrib.opentelemetry import OpenTelemetryPlugin
from temporalio.exceptions import ApplicationError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from .settings import Settings

# Raised by an activity, these mean the data is wrong, not that something is down.
PERMANENT_ACTIVITY_ERRORS: tuple[type[BaseException], ...] = (
    LookupError,
    ValueError,
    TypeError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.DataError,
)


_RUNTIMES: dict[int, Runtime] = {}


def sdk_runtime(settings: Settings) -> Runtime | None:
    """The SDK's runtime with its Prometheus exporter on the process's own port (one runtime per process: a port
    is bound once); None, the SDK's default runtime, when no port is set (a command-line run, a test)."""
    port = settings.temporal_metrics_port
    if port is None:
        return None
    if port not in _RUNTIMES:
        _RUNTIMES[port] = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=f"127.0.0.1:{port}", durations_as_seconds=True)
            )
        )
    return _RUNTIMES[port]


async def connect(settings: Settings) -> Client:
    """Every payload sealed by the codec (services/common/codec.py) with the process's payload keys."""
    from .codec import data_converter

    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings.payload_keys),
        plugins=[OpenTelemetryPlugin(add_temporal_spans=True)],
        runtime=sdk_runtime(settings),
    )


async def register_search_attributes(client: Client) -> None:
    """Register the case search attributes. The dev server gets them as start flags instead
    (`dev_server_search_attribute_flags`); this is for servers started without them, like the test server."""
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest

    from contract import search_attributes as sa

    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={k.name: int(k.indexed_value_type) for k in sa.ALL},  # type: ignore[misc]
        )
    )


def dev_server_search_attribute_flags() -> list[str]:
    from contract import search_attributes as sa

    kinds = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "BOOL": "Bool"}
    return [arg for k in sa.ALL for arg in ("--search-attribute", f"{k.name}={kinds[k.indexed_value_type.name]}")]


class _PermanentErrors(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except PERMANENT_ACTIVITY_ERRORS as exc:
            raise ApplicationError(f"{type(exc).__name__}: {exc}", type=type(exc).__name__, non_retryable=True) from exc


class PermanentErrorsInterceptor(Interceptor):
    """Which activity failures are permanent, decided once for every service: an error that says the data is
    wrong (a missing row, a broken constraint, a value that cannot be parsed) cannot be mended by retrying, so
    it fails the activity at once (non-retryable) and the case records it as `needs_attention`; anything else
    (a service, the database or the network down) is retried by the activity's retry policy."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _PermanentErrors(next)
