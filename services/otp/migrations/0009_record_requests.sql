-- depends: 0008_family_id_mobile
-- A verification certificate for a person in no government database asks their data owner to add the record;
-- the request is done once a record was added on it (the employee id the owner gave).
CREATE TABLE otp.record_request (
    certificate_id   uuid PRIMARY KEY,
    family_id        text NOT NULL,
    data_owner       text NOT NULL,
    department_code  text NOT NULL,
    district         text NOT NULL,
    ddo_code         text NOT NULL,
    issued_by        text NOT NULL,
    remarks          text NOT NULL,
    requested_at     timestamptz NOT NULL DEFAULT now(),
    employee_id      text REFERENCES otp.employee_master (employee_id),
    added_at         timestamptz
);
CREATE INDEX record_request_owner ON otp.record_request (data_owner, added_at);
