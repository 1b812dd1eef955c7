-- depends: 0002_limits_corrections_diagnosis
-- The language the employee reads their SMS in (templates exist in English and Hindi).
ALTER TABLE otp.employee_master ADD COLUMN sms_language text NOT NULL DEFAULT 'hi' CHECK (sms_language IN ('en', 'hi'));
