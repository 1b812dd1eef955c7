-- depends: 0003_eligibility
-- Documents: checked by content, at most 5 MB, stored with their SHA-256; every version is kept.
CREATE TABLE applications.document (
    employee_id  text NOT NULL,
    kind         text NOT NULL,
    version      integer NOT NULL,
    media_type   text NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size_bytes   integer NOT NULL CHECK (size_bytes <= 5242880),
    sha256       text NOT NULL,
    content      bytea NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (employee_id, kind, version)
);

-- Identity numbers: business tables keep only the last four Aadhaar digits and a reference into the vault.
CREATE TABLE applications.identity (
    employee_id    text PRIMARY KEY,
    aadhaar_last4  text NOT NULL CHECK (aadhaar_last4 ~ '^[0-9]{4}$'),
    aadhaar_ref    uuid NOT NULL,
    pan            text NOT NULL CHECK (pan ~ '^[A-Z]{5}[0-9]{4}[A-Z]$'),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- The one place a full Aadhaar number exists, encrypted (Fernet, key outside the database).
CREATE TABLE applications.aadhaar_vault (
    aadhaar_ref  uuid PRIMARY KEY,
    ciphertext   bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Every submission is kept (a returned application is corrected and submitted again).
ALTER TABLE applications.application DROP CONSTRAINT application_status_check;
ALTER TABLE applications.application ADD CONSTRAINT application_status_check
    CHECK (status IN ('submitted', 'returned', 'resubmitted'));
CREATE TABLE applications.submission (
    application_no  text NOT NULL REFERENCES applications.application (application_no),
    number          integer NOT NULL,
    form            jsonb NOT NULL,
    documents       jsonb NOT NULL,
    submitted_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_no, number)
);
