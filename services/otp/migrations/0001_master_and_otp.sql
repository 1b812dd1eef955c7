-- depends: 0000_outbox
-- Employee master records as the data owners hold them (HKRN Part-1, Treasury Part-2, HARTRON).
CREATE TABLE otp.employee_master (
    employee_id      text PRIMARY KEY,
    employee_group   text NOT NULL CHECK (employee_group IN ('part1', 'part2', 'hartron')),
    data_owner       text NOT NULL CHECK (data_owner IN ('HKRN', 'TREASURY', 'HARTRON')),
    name             text NOT NULL,
    father_name      text NOT NULL,
    date_of_birth    date NOT NULL,
    mobile           text NOT NULL CHECK (mobile ~ '^[6-9][0-9]{9}$'),
    family_id        text NOT NULL,
    department_code  text NOT NULL,
    district         text NOT NULL,
    post_code        text NOT NULL,
    ddo_code         text NOT NULL,
    date_of_joining  date NOT NULL,
    service_periods  jsonb NOT NULL,
    sanctioned_post  boolean NOT NULL,
    pay_head         text NOT NULL,
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX employee_master_mobile ON otp.employee_master (mobile);

-- One OTP challenge per request; only a keyed hash of the code is kept.
CREATE TABLE otp.otp_challenge (
    challenge_id  uuid PRIMARY KEY,
    mobile        text NOT NULL,
    employee_id   text NOT NULL REFERENCES otp.employee_master (employee_id),
    code_hash     bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    failed_tries  integer NOT NULL DEFAULT 0,
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'used', 'replaced', 'exhausted'))
);
CREATE INDEX otp_challenge_mobile ON otp.otp_challenge (mobile, created_at DESC);

-- What the SMS gateway adapter did with each message (in dev the "gateway" is this table).
CREATE TABLE otp.sms_delivery (
    event_id     uuid PRIMARY KEY,
    employee_id  text,
    mobile       text,
    template     text NOT NULL,
    template_id  text NOT NULL,
    language     text NOT NULL,
    body         text NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('delivered', 'dropped_expired', 'dropped_no_mobile')),
    handled_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_delivery_mobile ON otp.sms_delivery (mobile, handled_at);
