-- depends: 0009_officer_contacts
-- An employee whose service ends (superannuation) before the order is never given one: the case closes with that
-- reason and leaves the DDO's desk ('closed'). The DDO's queue puts first the cases whose employee retires before
-- the season's last deadline, as the pre-season audit asks ("take this case first").
ALTER TABLE verification.task DROP CONSTRAINT task_status_check;
ALTER TABLE verification.task ADD CONSTRAINT task_status_check
    CHECK (status IN ('pending', 'verified', 'rejected', 'returned', 'closed'));
ALTER TABLE verification.task
    ADD COLUMN superannuation_on date,
    ADD COLUMN take_first boolean NOT NULL DEFAULT false,
    ADD COLUMN closed_reason text;
