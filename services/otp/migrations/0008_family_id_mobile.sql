-- depends: 0007_audit_no_truncate
-- The Family ID (PPP) registry carries the family's mobile number: the pre-season audit compares it with the
-- number on the service record, the commonest reason an employee gets no OTP. Empty where the registry has none.
ALTER TABLE otp.ppp_registry ADD COLUMN mobile text CHECK (mobile IS NULL OR mobile ~ '^[6-9][0-9]{9}$');
