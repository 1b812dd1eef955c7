"""Indexes for pruning the applications schema's delivered outbox rows and processed-event rows."""

from services.common.kernel_schema import pruning_steps

__depends__ = {"0008_escalation_window"}

steps = pruning_steps("applications")
