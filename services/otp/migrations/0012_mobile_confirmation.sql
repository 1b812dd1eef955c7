-- depends: 0011_diagnosis_family
-- Before the season opens every employee on record is asked by SMS whether the number on their record is theirs
-- (a one-tap page: "mine" / "not mine"). One question per employee and number: a corrected record is asked again.
-- The link's code is derived from the confirmation id with the OTP key (services/otp/codes.py), never stored.
CREATE TABLE otp.mobile_confirmation (
    confirmation_id uuid PRIMARY KEY,
    employee_id text NOT NULL,
    mobile text NOT NULL,  -- the number asked about, as it was on the record (the record holds it too)
    asked_at timestamptz NOT NULL DEFAULT now(),
    answer text CHECK (answer IN ('mine', 'not_mine')),
    answered_at timestamptz,
    reminders integer NOT NULL DEFAULT 0,  -- the same question sent again to a number that has not answered
    reminded_at timestamptz,
    UNIQUE (employee_id, mobile)
);
