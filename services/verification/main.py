"""The verification service: DDO verification, verification certificates, escalations and accountability."""

from pathlib import Path

from services.common.codec_server import router as codec_router
from services.common.runtime import ServiceDefinition, build_app

from .activities import activities
from .router import router

definition = ServiceDefinition(
    name="verification",
    title="Seva Suraksha: verification service",
    routers=[router, codec_router],
    migrations=Path(__file__).parent / "migrations",
    activities=activities,
)
app = build_app(definition)
