-- depends: 0009_record_requests
-- Officers are told by SMS and, where their record has one, by e-mail: the gateway adapter's record of each
-- message says which channel it went by (and to which address, for e-mail).
ALTER TABLE otp.sms_delivery
    ADD COLUMN channel text NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'email')),
    ADD COLUMN email text;
