-- depends: 0004_audit
-- Each escalation of a pending case to the next level, with the officer below and the days overdue.
CREATE TABLE verification.escalation (
    employee_id     text NOT NULL,
    step            text NOT NULL,
    level           integer NOT NULL,
    application_no  text,
    from_role       text NOT NULL,
    from_ref        text NOT NULL,
    to_role         text NOT NULL,
    to_ref          text NOT NULL,
    deadline        timestamptz NOT NULL,
    days_overdue    integer NOT NULL,
    escalated_at    timestamptz NOT NULL,
    respond_by      timestamptz NOT NULL,
    PRIMARY KEY (employee_id, step, level)
);
CREATE INDEX escalation_to ON verification.escalation (to_ref, escalated_at);

-- What officers are told (the officer below that they missed a date, the level above that a case is theirs).
CREATE TABLE verification.officer_notification (
    id              bigserial PRIMARY KEY,
    officer_ref     text NOT NULL,
    kind            text NOT NULL,
    employee_id     text NOT NULL,
    application_no  text,
    message         text NOT NULL,
    dedupe_key      text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    read_at         timestamptz
);
CREATE INDEX officer_notification_ref ON verification.officer_notification (officer_ref, created_at);

ALTER TABLE verification.task ADD COLUMN escalation_level integer NOT NULL DEFAULT 0;
