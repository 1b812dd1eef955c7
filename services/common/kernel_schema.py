"""Tables every service needs, written once and created by each service's migrations in its own schema:
the transactional outbox and inbox, and the hash-chained audit log."""

from __future__ import annotations

from typing import Any


def outbox_sql(schema: str) -> str:
    return f"""
CREATE SCHEMA IF NOT EXISTS {schema};
-- The transactional outbox: events written in the transaction of their state change.
CREATE TABLE {schema}.outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    topic        text NOT NULL,
    key          text NOT NULL,
    event_type   text NOT NULL,
    payload      jsonb NOT NULL,
    headers      jsonb NOT NULL DEFAULT '{{}}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON {schema}.outbox (id) WHERE published_at IS NULL;
-- The inbox: which events each consumer has already applied (idempotency).
CREATE TABLE {schema}.inbox (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
"""


def outbox_steps(schema: str) -> list[Any]:
    from yoyo import step

    return [step(outbox_sql(schema), f"DROP TABLE {schema}.inbox; DROP TABLE {schema}.outbox;")]


def pruning_steps(schema: str) -> list[Any]:
    """Indexes for pruning what is delivered (services/common/db.py: prune_delivered)."""
    from yoyo import step

    return [
        step(
            f"CREATE INDEX outbox_published_at ON {schema}.outbox (published_at) WHERE published_at IS NOT NULL;"
            f"CREATE INDEX inbox_processed_at ON {schema}.inbox (processed_at);",
            f"DROP INDEX {schema}.outbox_published_at; DROP INDEX {schema}.inbox_processed_at;",
        )
    ]


def audit_steps(schema: str) -> list[Any]:
    """The append-only, hash-chained audit log of officers' decisions in this schema: a trigger refuses
    UPDATE and DELETE, and each row's hash covers the previous row's hash (services/common/audit.py)."""
    from yoyo import step

    return [
        step(
            f"""
CREATE TABLE {schema}.audit_log (
    seq        bigint PRIMARY KEY,
    body       text NOT NULL,
    prev_hash  text NOT NULL,
    hash       text NOT NULL
);
CREATE FUNCTION {schema}.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {schema}.audit_log
    FOR EACH ROW EXECUTE FUNCTION {schema}.audit_log_append_only();
""",
            f"DROP TABLE {schema}.audit_log; DROP FUNCTION {schema}.audit_log_append_only();",
        )
    ]


def audit_truncate_steps(schema: str) -> list[Any]:
    """TRUNCATE skips row triggers: a statement trigger refuses it too, so the log can only grow."""
    from yoyo import step

    return [
        step(
            f"CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {schema}.audit_log "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_log_append_only();",
            f"DROP TRIGGER audit_log_no_truncate ON {schema}.audit_log;",
        )
    ]
