-- depends: 0005_pruning
-- No usable OTP at rest. A code is derived from its challenge id with the service's key (services/otp/codes.py)
-- when the SMS is sent and when it is checked; no table, topic or log holds it, nor a hash of it.
ALTER TABLE otp.otp_challenge DROP COLUMN code_hash;
-- A number not on record gets a challenge too (no employee): /otp/verify then answers it exactly as it answers
-- a number on record, so the answer does not tell which numbers are on record.
ALTER TABLE otp.otp_challenge ALTER COLUMN employee_id DROP NOT NULL;
-- The gateway's record keeps a reference to the challenge, never the text with the code.
ALTER TABLE otp.sms_delivery DROP CONSTRAINT sms_delivery_outcome_check;
ALTER TABLE otp.sms_delivery ADD CONSTRAINT sms_delivery_outcome_check
    CHECK (outcome IN ('delivered', 'dropped_expired', 'dropped_no_mobile', 'dropped_not_on_record'));
ALTER TABLE otp.sms_delivery ADD COLUMN reference text;
UPDATE otp.sms_delivery SET body = regexp_replace(body, '[0-9]{6}', '******', 'g') WHERE template = 'otp';
UPDATE otp.outbox SET payload = payload #- '{data,params,code}' WHERE topic = 'sms.outbound';
-- "Why no OTP?" is limited per Family ID and per client address.
CREATE TABLE otp.diagnosis_request (
    family_id    text NOT NULL,
    client_addr  text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX diagnosis_request_family ON otp.diagnosis_request (family_id, requested_at);
CREATE INDEX diagnosis_request_client ON otp.diagnosis_request (client_addr, requested_at);
