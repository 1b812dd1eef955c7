"""Indexes for pruning the otp schema's delivered outbox rows and processed-event rows."""

from services.common.kernel_schema import pruning_steps

__depends__ = {"0004_audit"}

steps = pruning_steps("otp")
