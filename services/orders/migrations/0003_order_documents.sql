-- depends: 0002_audit
-- The order's particulars, its signed QR payload and its PDF, fixed at issue (orders are immutable).
ALTER TABLE orders.service_security_order
    ADD COLUMN name           text NOT NULL DEFAULT '',
    ADD COLUMN father_name    text NOT NULL DEFAULT '',
    ADD COLUMN date_of_birth  date,
    ADD COLUMN post_code      text NOT NULL DEFAULT '',
    ADD COLUMN effective_date date,
    ADD COLUMN secure_until   date,
    ADD COLUMN qr_payload     text,
    ADD COLUMN pdf            bytea,
    ADD COLUMN pdf_sha256     text;
CREATE FUNCTION orders.order_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a service-security order cannot be changed or deleted; withdraw it instead';
END $$;
CREATE TRIGGER order_immutable BEFORE UPDATE OR DELETE ON orders.service_security_order
    FOR EACH ROW EXECUTE FUNCTION orders.order_immutable();

-- A withdrawal is a new recorded act; the order itself stays as issued.
CREATE TABLE orders.order_withdrawal (
    order_no      text PRIMARY KEY REFERENCES orders.service_security_order (order_no),
    withdrawn_by  text NOT NULL,
    reason        text NOT NULL,
    withdrawn_at  timestamptz NOT NULL DEFAULT now()
);

-- Orders issued outside the portal are void; each entry flags the employee's case for the portal.
CREATE TABLE orders.physical_order (
    id             bigserial PRIMARY KEY,
    employee_id    text NOT NULL,
    department     text NOT NULL,
    reference      text NOT NULL,
    issued_on      date NOT NULL,
    registered_by  text NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT now(),
    status         text NOT NULL DEFAULT 'void' CHECK (status = 'void'),
    UNIQUE (department, reference)
);
