"""The OTP service: mobile OTP, employee master records, sessions, and the SMS gateway adapter."""

from pathlib import Path

from services.common.runtime import ServiceDefinition, build_app

from .activities import activities
from .consumers import certificates_consumer, corrections_consumer, sms_consumer
from .router import dev_router, master_router, router

definition = ServiceDefinition(
    name="otp",
    title="Seva Suraksha: OTP service",
    routers=[router, master_router],
    dev_routers=[dev_router],
    migrations=Path(__file__).parent / "migrations",
    activities=activities,
    consumers=[
        ("sms-gateway", sms_consumer),
        ("masterdata-corrections", corrections_consumer),
        ("certificates", certificates_consumer),
    ],
)
app = build_app(definition)
