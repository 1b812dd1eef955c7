-- depends: 0015_escalation_days_fractional
-- The drop-down lists in Hindi beside English (the data owners' files carry both): a Hindi page shows the Hindi
-- name where one is given and the English otherwise. A DDO's office also has a telephone the employee is shown.
ALTER TABLE applications.department ADD COLUMN name_hi text;
ALTER TABLE applications.district ADD COLUMN name_hi text;
ALTER TABLE applications.post ADD COLUMN name_hi text;
ALTER TABLE applications.ddo ADD COLUMN office_name_hi text, ADD COLUMN phone text;
