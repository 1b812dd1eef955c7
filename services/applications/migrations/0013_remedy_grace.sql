-- depends: 0012_counting_conventions
-- An employee who reported a fault on their record ("Why no OTP?") before registration closed keeps registration
-- open until the data owner corrects the record and then this many days (never past DDO verification): the
-- remedy's wait is the officers', not theirs. Data of the season, changed by a new calendar version like the dates.
ALTER TABLE applications.season_calendar
    ADD COLUMN remedy_grace_days double precision NOT NULL DEFAULT 7
    CHECK (remedy_grace_days >= 0);
