"""The Temporal client every process uses, with tracing carried into workflows and activities."""
from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.opentelemetry import OpenTelemetryPlugin

from .settings import Settings


async def connect(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                plugins=[OpenTelemetryPlugin(add_temporal_spans=True)])


async def register_search_attributes(client: Client) -> None:
    """Register the case search attributes. The dev server gets them as start flags instead
    (`dev_server_search_attribute_flags`); this is for servers started without them, like the test server."""
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest

    from workflows import search_attributes as sa

    await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=client.namespace, search_attributes={k.name: int(k.indexed_value_type) for k in sa.ALL}))


def dev_server_search_attribute_flags() -> list[str]:
    from workflows import search_attributes as sa

    kinds = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "BOOL": "Bool"}
    return [arg for k in sa.ALL for arg in ("--search-attribute", f"{k.name}={kinds[k.indexed_value_type.name]}")]
