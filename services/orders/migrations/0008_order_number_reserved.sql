-- depends: 0007_audit_no_truncate
-- The order's PDF is rendered outside any transaction (about a quarter of a second of CPU each): its number and
-- date are reserved on the case's request first, in a short transaction, so a retried or concurrent issue renders
-- and stores the very same order, and no row lock or connection is held while the document is drawn.
ALTER TABLE orders.case_request
    ADD COLUMN order_no_reserved text UNIQUE,
    ADD COLUMN order_date_reserved date;
