-- depends: 0005_dropdown_log
ALTER TABLE applications.application ADD COLUMN remarks jsonb NOT NULL DEFAULT '{}';
ALTER TABLE applications.application ADD COLUMN returned_at timestamptz;
