-- depends: 0014_missing_entries
-- Each escalation level's window is a period of the season like every other: a fraction of a day is allowed, so a
-- season compressed for the simulator (minutes for months) escalates on the same proportions as the real one.
ALTER TABLE applications.season_calendar ALTER COLUMN escalation_days TYPE double precision;
