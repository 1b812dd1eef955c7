-- depends: 0008_order_number_reserved
-- A case closed without an order (the employee reached superannuation first) leaves Finance's and the HoD's lists.
ALTER TABLE orders.case_request
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN closed_reason text;
