"""The orders service: Finance supernumerary posts, HoD approval, service-security orders."""

from pathlib import Path

from services.common.runtime import ServiceDefinition, build_app

from .activities import activities
from .consumers import escalations_consumer
from .router import router

definition = ServiceDefinition(
    name="orders",
    title="Seva Suraksha: orders service",
    routers=[router],
    migrations=Path(__file__).parent / "migrations",
    activities=activities,
    consumers=[("escalations", escalations_consumer)],
)
app = build_app(definition)
