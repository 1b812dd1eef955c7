"""Indexes for pruning the orders schema's delivered outbox rows and processed-event rows."""

from services.common.kernel_schema import pruning_steps

__depends__ = {"0004_batches"}

steps = pruning_steps("orders")
