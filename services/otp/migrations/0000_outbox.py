"""The outbox and inbox of the otp schema (shared shape: services/common/outbox_schema.py)."""
from services.common.outbox_schema import outbox_steps

steps = outbox_steps("otp")
