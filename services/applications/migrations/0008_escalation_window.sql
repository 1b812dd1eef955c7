-- depends: 0007_audit
-- Days each next level gets before a missed officer step escalates again: calendar data, not code.
ALTER TABLE applications.season_calendar ADD COLUMN escalation_days integer NOT NULL DEFAULT 7 CHECK (escalation_days > 0);
