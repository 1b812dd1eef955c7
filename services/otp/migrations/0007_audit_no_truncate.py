"""The otp audit log refuses TRUNCATE too (shared shape: services/common/kernel_schema.py)."""

from services.common.kernel_schema import audit_truncate_steps

__depends__ = {"0006_no_codes_at_rest"}

steps = audit_truncate_steps("otp")
