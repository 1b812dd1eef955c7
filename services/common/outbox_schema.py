"""The outbox and inbox tables every service needs, written once; each service's first migration
creates them in its own schema (see services/<name>/migrations/0000_outbox.py)."""
from __future__ import annotations


def outbox_steps(schema: str) -> list:
    from yoyo import step

    return [step(f"""
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
""", f"DROP TABLE {schema}.inbox; DROP TABLE {schema}.outbox;")]
