-- depends: 0010_officer_mail
-- A person in no government database has no employee id when they ask "Why no OTP?": the diagnosis keeps the
-- Family ID they proved, so that when their record is added later, their case knows they reported in time.
ALTER TABLE otp.diagnosis ADD COLUMN family_id text;
CREATE INDEX diagnosis_family ON otp.diagnosis (family_id, diagnosed_at);
