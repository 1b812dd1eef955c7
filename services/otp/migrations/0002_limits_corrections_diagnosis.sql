-- depends: 0001_master_and_otp
-- Every OTP request, on record or not, so limits apply alike and never reveal which numbers are known.
CREATE TABLE otp.send_log (
    id           bigserial PRIMARY KEY,
    mobile       text NOT NULL,
    client_addr  text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX send_log_mobile ON otp.send_log (mobile, requested_at);
CREATE INDEX send_log_client ON otp.send_log (client_addr, requested_at);

CREATE TABLE otp.mobile_lockout (
    mobile        text PRIMARY KEY,
    locked_until  timestamptz NOT NULL,
    reason        text NOT NULL
);

-- The Family ID (Parivar Pehchan Patra) registry: master data, kept with the employee records.
CREATE TABLE otp.ppp_registry (
    family_id      text PRIMARY KEY,
    name           text NOT NULL,
    father_name    text NOT NULL,
    date_of_birth  date NOT NULL
);

-- Every change to a master record: who, when, why, from where (API or Kafka), before and after.
CREATE TABLE otp.master_change (
    id           bigserial PRIMARY KEY,
    employee_id  text NOT NULL REFERENCES otp.employee_master (employee_id),
    field        text NOT NULL,
    old_value    text,
    new_value    text,
    changed_by   text NOT NULL,
    data_owner   text NOT NULL,
    source       text NOT NULL CHECK (source IN ('api', 'kafka')),
    reason       text NOT NULL,
    certificate_id uuid,
    changed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX master_change_employee ON otp.master_change (employee_id, changed_at);

-- "Why no OTP?" answers, kept so the employee's DDO sees the same diagnosis.
CREATE TABLE otp.diagnosis (
    id            bigserial PRIMARY KEY,
    employee_id   text,
    ddo_code      text,
    causes        jsonb NOT NULL,
    diagnosed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX diagnosis_ddo ON otp.diagnosis (ddo_code, diagnosed_at);
CREATE INDEX diagnosis_employee ON otp.diagnosis (employee_id, diagnosed_at);

-- A verification certificate asks the data owner to correct a record; the correction closes it.
CREATE TABLE otp.correction_request (
    certificate_id  uuid PRIMARY KEY,
    employee_id     text NOT NULL REFERENCES otp.employee_master (employee_id),
    data_owner      text NOT NULL,
    issued_by       text NOT NULL,
    remarks         text NOT NULL,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    corrected_at    timestamptz
);
CREATE INDEX correction_request_owner ON otp.correction_request (data_owner, corrected_at);
