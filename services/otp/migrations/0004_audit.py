"""The audit log of the otp schema (shared shape: services/common/kernel_schema.py)."""

from services.common.kernel_schema import audit_steps

__depends__ = {"0003_sms_language"}

steps = audit_steps("otp")
