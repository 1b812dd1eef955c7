-- depends: 0001_calendar_master_applications
-- The Family ID registry is master data and lives with the employee records (otp.ppp_registry).
DROP TABLE applications.ppp_registry;
