-- depends: 0013_remedy_grace
-- An application refused because its post, department or DDO is missing from the drop-down lists is a report
-- to the data owners: kept here until the entry is added (then the employee is told, and the grace after the
-- addition holds their registration open if they reported before the close).
CREATE TABLE applications.missing_entry (
    list_name    text NOT NULL CHECK (list_name IN ('department', 'post', 'ddo')),
    code         text NOT NULL,
    employee_id  text NOT NULL,
    reported_at  timestamptz NOT NULL DEFAULT now(),
    added_at     timestamptz,
    PRIMARY KEY (list_name, code, employee_id)
);
CREATE INDEX missing_entry_open ON applications.missing_entry (list_name, code) WHERE added_at IS NULL;
