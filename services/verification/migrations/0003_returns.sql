-- depends: 0002_certificates
-- A DDO may return an application for correction, with remarks per field or document.
ALTER TABLE verification.task DROP CONSTRAINT task_status_check;
ALTER TABLE verification.task ADD CONSTRAINT task_status_check CHECK (status IN ('pending', 'verified', 'rejected', 'returned'));
ALTER TABLE verification.task ADD COLUMN remarks jsonb NOT NULL DEFAULT '{}';
ALTER TABLE verification.task ADD COLUMN round integer NOT NULL DEFAULT 1;
-- Every decision, kept (a task's row shows only the latest).
CREATE TABLE verification.decision (
    application_no  text NOT NULL REFERENCES verification.task (application_no),
    round           integer NOT NULL,
    decision        text NOT NULL,
    reasons         jsonb NOT NULL,
    remarks         jsonb NOT NULL,
    decided_by      text NOT NULL,
    decided_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_no, round)
);
