-- depends: 0001_officers_tasks_accountability
ALTER TABLE verification.officer ADD COLUMN data_owner text CHECK (data_owner IN ('HKRN', 'TREASURY', 'HARTRON'));
ALTER TABLE verification.officer ADD CONSTRAINT officer_data_owner CHECK (role <> 'data_officer' OR data_owner IS NOT NULL);

-- The verification certificate (government letter of 30 Jan 2026): the officer attests all three facts.
-- Without it, a record that kept an employee from registering is not corrected and the case does not proceed.
CREATE TABLE verification.certificate (
    certificate_id                 uuid PRIMARY KEY,
    employee_id                    text NOT NULL,
    issued_by                      text NOT NULL REFERENCES verification.officer (officer_id),
    issuer_role                    text NOT NULL,
    genuine_contractual_employee   boolean NOT NULL CHECK (genuine_contractual_employee),
    full_service_record_available  boolean NOT NULL CHECK (full_service_record_available),
    pay_from_contractual_head      boolean NOT NULL CHECK (pay_from_contractual_head),
    remarks                        text NOT NULL,
    issued_at                      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX certificate_employee ON verification.certificate (employee_id);
