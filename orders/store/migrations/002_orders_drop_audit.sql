-- Keyset paging of a drop's orders by reservation id (the audit API reads a drop's orders in
-- pages of up to 500): each page is an index range scan, not a sort of the drop's every order.
CREATE INDEX orders_drop_reservation_idx ON orders (drop_id, reservation_id);
