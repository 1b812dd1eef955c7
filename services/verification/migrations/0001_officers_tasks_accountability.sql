-- depends: 0000_outbox
-- Officers and their scope (in production the state's identity provider asserts these).
CREATE TABLE verification.officer (
    officer_id   text PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('ddo', 'hod', 'admin_secretary', 'finance', 'data_officer', 'administrator')),
    ddo_code     text,
    department   text,
    active       boolean NOT NULL DEFAULT true,
    CHECK (role <> 'ddo' OR ddo_code IS NOT NULL),
    CHECK (role <> 'hod' OR department IS NOT NULL)
);

-- One verification task per application, in the queue of its DDO.
CREATE TABLE verification.task (
    application_no  text PRIMARY KEY,
    employee_id     text NOT NULL,
    ddo_code        text NOT NULL,
    department      text NOT NULL,
    district        text NOT NULL,
    due_at          timestamptz NOT NULL,
    opened_at       timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'rejected')),
    decided_by      text,
    decided_at      timestamptz,
    reasons         jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX task_queue ON verification.task (ddo_code, status, due_at);

-- Accountability: every missed officer deadline, recorded against the officer responsible.
CREATE TABLE verification.missed_deadline (
    employee_id     text NOT NULL,
    step            text NOT NULL,
    application_no  text,
    officer_role    text NOT NULL,
    officer_ref     text NOT NULL,
    deadline        timestamptz NOT NULL,
    noticed_at      timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (employee_id, step)
);
CREATE INDEX missed_deadline_officer ON verification.missed_deadline (officer_ref);
