-- depends: 0012_mobile_confirmation
-- The gateway adapter claims a message ('sending') and commits before it calls the gateway, then records what the
-- gateway answered: 'delivered', or 'refused' with the gateway's reason (the message is parked for replay). An OTP
-- whose challenge a newer request replaced is not sent ('dropped_superseded'). `attempts` counts the claims: more
-- than one means the message was sent again under the same idempotency key (a crash, a replay).
ALTER TABLE otp.sms_delivery DROP CONSTRAINT sms_delivery_outcome_check;
ALTER TABLE otp.sms_delivery ADD CONSTRAINT sms_delivery_outcome_check CHECK (outcome IN (
    'sending', 'delivered', 'refused', 'dropped_expired', 'dropped_no_mobile', 'dropped_not_on_record',
    'dropped_superseded'));
ALTER TABLE otp.sms_delivery
    ADD COLUMN refusal text,
    ADD COLUMN attempts integer NOT NULL DEFAULT 1;
