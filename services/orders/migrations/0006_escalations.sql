-- depends: 0005_pruning
-- Finance's and the HoD's steps escalated to an Administrative Secretary (from the verification service's
-- case.escalated events): the Secretary may then create the post or approve the order for that case.
CREATE TABLE orders.escalation (
    application_no  text NOT NULL,
    step            text NOT NULL,
    level           integer NOT NULL,
    to_role         text NOT NULL,
    to_ref          text NOT NULL,
    escalated_at    timestamptz NOT NULL,
    PRIMARY KEY (application_no, step, level)
);
CREATE INDEX escalation_to_ref ON orders.escalation (to_ref, step);
