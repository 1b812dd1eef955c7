"""The audit log of the orders schema (shared shape: services/common/kernel_schema.py)."""

from services.common.kernel_schema import audit_steps

__depends__ = {"0001_posts_and_orders"}

steps = audit_steps("orders")
