"""The verification audit log refuses TRUNCATE too (shared shape: services/common/kernel_schema.py)."""

from services.common.kernel_schema import audit_truncate_steps

__depends__ = {"0006_pruning"}

steps = audit_truncate_steps("verification")
