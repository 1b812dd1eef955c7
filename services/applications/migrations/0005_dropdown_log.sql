-- depends: 0004_documents_identity
-- Drop-down entries added by data owners at run time, with who added them and when.
CREATE TABLE applications.dropdown_change (
    id         bigserial PRIMARY KEY,
    list_name  text NOT NULL CHECK (list_name IN ('department', 'post', 'ddo')),
    code       text NOT NULL,
    entry      jsonb NOT NULL,
    added_by   text NOT NULL,
    added_at   timestamptz NOT NULL DEFAULT now()
);
