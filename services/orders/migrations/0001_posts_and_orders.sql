-- depends: 0000_outbox
-- A case verified by its DDO waits here for Finance (a supernumerary post) and then its HoD (the order).
CREATE TABLE orders.case_request (
    application_no  text PRIMARY KEY,
    employee_id     text NOT NULL,
    department      text NOT NULL,
    district        text NOT NULL,
    post_code       text NOT NULL,
    post_due_at     timestamptz NOT NULL,
    opened_at       timestamptz NOT NULL DEFAULT now(),
    approved_by     text,
    approved_at     timestamptz
);
CREATE INDEX case_request_department ON orders.case_request (department, post_code);

CREATE SEQUENCE orders.post_seq;
CREATE TABLE orders.supernumerary_post (
    post_id         text PRIMARY KEY,
    application_no  text NOT NULL UNIQUE REFERENCES orders.case_request (application_no),
    employee_id     text NOT NULL,
    department      text NOT NULL,
    post_code       text NOT NULL,
    batch_id        uuid NOT NULL,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE orders.order_seq;
-- Orders are immutable once issued.
CREATE TABLE orders.service_security_order (
    order_no        text PRIMARY KEY,
    application_no  text NOT NULL UNIQUE REFERENCES orders.case_request (application_no),
    employee_id     text NOT NULL,
    post_id         text NOT NULL REFERENCES orders.supernumerary_post (post_id),
    department      text NOT NULL,
    issued_at       timestamptz NOT NULL DEFAULT now()
);
