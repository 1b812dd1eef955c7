-- depends: 0008_new_record_certificates
-- Officers are told of escalations and pending work by SMS (and e-mail where the record has one), in their
-- language, through the same outbox and SMS gateway as employees; the table of notifications stays the record.
ALTER TABLE verification.officer
    ADD COLUMN mobile text CHECK (mobile IS NULL OR mobile ~ '^[6-9][0-9]{9}$'),
    ADD COLUMN email text CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
    ADD COLUMN language text NOT NULL DEFAULT 'hi' CHECK (language IN ('hi', 'en'));
