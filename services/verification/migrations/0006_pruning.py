"""Indexes for pruning the verification schema's delivered outbox rows and processed-event rows."""

from services.common.kernel_schema import pruning_steps

__depends__ = {"0005_escalation"}

steps = pruning_steps("verification")
