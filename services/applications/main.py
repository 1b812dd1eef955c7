"""The applications service: PPP auto-fill, the application form, the deadline calendar, application numbers."""

from pathlib import Path

from services.common.runtime import ServiceDefinition, build_app

from .activities import activities
from .calendar_router import router as calendar_router
from .consumers import returns_consumer
from .dropdowns_router import router as dropdown_router
from .review_router import router as review_router
from .router import router

definition = ServiceDefinition(
    name="applications",
    title="Seva Suraksha: applications service",
    routers=[router, dropdown_router, review_router, calendar_router],
    migrations=Path(__file__).parent / "migrations",
    activities=activities,
    consumers=[("returns", returns_consumer)],
)
app = build_app(definition)
