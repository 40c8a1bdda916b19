-- 005: what an order was sold through, and the coupon discount taken off its list price.
-- total_minor stays the list price (unit price × qty); paid_minor is what the buyer pays.
ALTER TABLE orders
  ADD COLUMN format text NOT NULL DEFAULT 'drop'
    CHECK (format IN ('drop', 'auction', 'giveaway', 'buy_now')),
  ADD COLUMN coupon_id text,
  ADD COLUMN discount_minor bigint NOT NULL DEFAULT 0 CHECK (discount_minor >= 0),
  ADD COLUMN paid_minor bigint GENERATED ALWAYS AS (total_minor - discount_minor) STORED,
  ADD CONSTRAINT orders_discount_within_total CHECK (discount_minor <= total_minor),
  ADD CONSTRAINT orders_discount_has_coupon CHECK ((discount_minor = 0) OR (coupon_id IS NOT NULL));

CREATE INDEX orders_coupon_idx ON orders (coupon_id) WHERE coupon_id IS NOT NULL;
