"""The outbox and inbox of the applications schema (shared shape: services.common.kernel_schema.py)."""

from services.common.kernel_schema import outbox_steps

steps = outbox_steps("applications")
