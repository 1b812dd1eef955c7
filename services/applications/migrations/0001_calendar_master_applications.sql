-- depends: 0000_outbox
-- The deadline calendar: every change is a new version, with who, when and why.
CREATE TABLE applications.season_calendar (
    season_id           text NOT NULL,
    version             integer NOT NULL,
    registration_open   timestamptz NOT NULL,
    registration_close  timestamptz NOT NULL,
    ddo_verification    timestamptz NOT NULL,
    post_creation       timestamptz NOT NULL,
    order_issue         timestamptz NOT NULL,
    changed_by          text NOT NULL,
    reason              text NOT NULL,
    changed_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, version),
    CHECK (registration_open < registration_close AND registration_close < ddo_verification
           AND ddo_verification < post_creation AND post_creation < order_issue)
);
INSERT INTO applications.season_calendar VALUES
 ('2025-26', 1, '2025-12-25 00:00:00+05:30', '2026-01-31 23:59:59+05:30', '2026-02-28 23:59:59+05:30',
  '2026-03-31 23:59:59+05:30', '2026-04-30 23:59:59+05:30', 'HR department', 'Job Security Policy 2025 schedule', now()),
 ('2025-26', 2, '2025-12-25 00:00:00+05:30', '2026-02-20 23:59:59+05:30', '2026-02-28 23:59:59+05:30',
  '2026-03-31 23:59:59+05:30', '2026-04-30 23:59:59+05:30', 'HR department', 'registration extended to 20 Feb 2026', now());

-- Drop-down master data; the data owners add missing entries without a redeploy.
CREATE TABLE applications.department (code text PRIMARY KEY, name text NOT NULL);
CREATE TABLE applications.district (name text PRIMARY KEY);
CREATE TABLE applications.post (code text PRIMARY KEY, name text NOT NULL);
CREATE TABLE applications.ddo (
    ddo_code         text PRIMARY KEY,
    department_code  text NOT NULL REFERENCES applications.department (code),
    district         text NOT NULL REFERENCES applications.district (name),
    office_name      text NOT NULL
);
-- Family ID (Parivar Pehchan Patra) registry, used to fill in the form.
CREATE TABLE applications.ppp_registry (
    family_id      text PRIMARY KEY,
    name           text NOT NULL,
    father_name    text NOT NULL,
    date_of_birth  date NOT NULL
);

CREATE SEQUENCE applications.application_no_seq;
CREATE TABLE applications.application (
    application_no   text PRIMARY KEY,
    employee_id      text NOT NULL,
    season_id        text NOT NULL,
    status           text NOT NULL CHECK (status IN ('submitted')),
    department_code  text NOT NULL REFERENCES applications.department (code),
    district         text NOT NULL REFERENCES applications.district (name),
    post_code        text NOT NULL REFERENCES applications.post (code),
    ddo_code         text NOT NULL REFERENCES applications.ddo (ddo_code),
    date_of_joining  date NOT NULL,
    submitted_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (employee_id, season_id)
);
