"""The audit log of the verification schema (shared shape: services/common/kernel_schema.py)."""

from services.common.kernel_schema import audit_steps

__depends__ = {"0003_returns"}

steps = audit_steps("verification")
