-- depends: 0007_audit_no_truncate
-- A person in no government database (the real portal's dead end): the DDO (or HoD / Administrative Secretary)
-- certifies them as a genuine contractual employee of an office, and the data owner named adds the record on
-- that authority, which starts the employee's case. The Family ID is how the data owner finds the person.
CREATE TABLE verification.new_record_certificate (
    certificate_id                 uuid PRIMARY KEY,
    family_id                      text NOT NULL,
    data_owner                     text NOT NULL CHECK (data_owner IN ('HKRN', 'TREASURY', 'HARTRON')),
    department_code                text NOT NULL,
    district                       text NOT NULL,
    ddo_code                       text NOT NULL,
    issued_by                      text NOT NULL REFERENCES verification.officer (officer_id),
    issuer_role                    text NOT NULL,
    genuine_contractual_employee   boolean NOT NULL CHECK (genuine_contractual_employee),
    full_service_record_available  boolean NOT NULL CHECK (full_service_record_available),
    pay_from_contractual_head      boolean NOT NULL CHECK (pay_from_contractual_head),
    remarks                        text NOT NULL,
    issued_at                      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (family_id, ddo_code, issued_by)
);
