"""The audit log of the applications schema (shared shape: services/common/kernel_schema.py)."""

from services.common.kernel_schema import audit_steps

__depends__ = {"0006_returns"}

steps = audit_steps("applications")
