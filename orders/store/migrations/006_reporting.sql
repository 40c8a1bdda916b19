-- 006: reporting for BI tools (Tableau, Power BI, 九数云BI): the funnel snapshots the gateway
-- writes, and the schema reporting_v1 of documented, read-only views over the order store.
-- The views are a contract: an incompatible change adds reporting_v2 beside it; v1 stays.
-- The lane whose tables are in `public` (the live one) gets `reporting_v1`; a lane whose tables
-- are in another schema (the shadow lane on PostgreSQL) gets `<schema>_reporting_v1`, so the two
-- never collide in one database and each lane's views read that lane's tables.

-- The funnel figures that live in Redis (room viewers, buy clicks), copied per drop by the
-- gateway while the drop runs and once more when it ends. One row per drop, overwritten.
CREATE TABLE drop_funnel_snapshots (
  drop_id      text        PRIMARY KEY,
  room_id      text        NOT NULL,
  -- Viewers of the drop's room at the last snapshot, and the most any snapshot saw.
  viewers      integer     NOT NULL CHECK (viewers >= 0),
  peak_viewers integer     NOT NULL CHECK (peak_viewers >= viewers),
  -- Buy presses that reached the sale engine, accepted or refused (a running count).
  buy_clicks   bigint      NOT NULL CHECK (buy_clicks >= 0),
  -- The drop had ended when this snapshot was taken: its figures are final.
  final        boolean     NOT NULL DEFAULT false,
  taken_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX drop_funnel_snapshots_room_idx ON drop_funnel_snapshots (room_id);

-- The views are created in the reporting schema (first on the search path for the rest of this
-- file) and read the lane's tables (next on the path); the path is put back at the end.
DO $$
DECLARE
  target text := CASE WHEN current_schema() = 'public' THEN 'reporting_v1'
                      ELSE current_schema() || '_reporting_v1' END;
BEGIN
  EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', target);
  EXECUTE format('COMMENT ON SCHEMA %I IS %L', target,
    'livedrop order reporting, version 1: stable, documented views for BI tools (docs/reports.md). '
    'Amounts are integers in minor units (cents) of the row''s currency.');
  PERFORM set_config('livedrop.search_path_before', current_setting('search_path'), true);
  PERFORM set_config('search_path', quote_ident(target) || ', ' || current_setting('search_path'), true);
END
$$;

CREATE VIEW orders_by_drop AS
SELECT drop_id, room_id, format, currency,
  count(*)::bigint AS orders,
  count(*) FILTER (WHERE status = 'paid')::bigint AS paid_orders,
  coalesce(sum(qty) FILTER (WHERE status = 'paid'), 0)::bigint AS units,
  coalesce(sum(total_minor) FILTER (WHERE status = 'paid'), 0)::bigint AS gross_minor,
  coalesce(sum(discount_minor) FILTER (WHERE status = 'paid'), 0)::bigint AS discount_minor,
  coalesce(sum(paid_minor) FILTER (WHERE status = 'paid'), 0)::bigint AS net_minor,
  count(*) FILTER (WHERE status = 'refunded')::bigint AS refunded_orders,
  coalesce(sum(paid_minor) FILTER (WHERE status = 'refunded'), 0)::bigint AS refunded_minor,
  min(created_at) AS first_order_at,
  max(created_at) AS last_order_at
FROM orders
GROUP BY drop_id, room_id, format, currency;

CREATE VIEW orders_by_room AS
SELECT room_id, format, currency,
  count(DISTINCT drop_id)::bigint AS drops,
  count(*)::bigint AS orders,
  count(*) FILTER (WHERE status = 'paid')::bigint AS paid_orders,
  coalesce(sum(qty) FILTER (WHERE status = 'paid'), 0)::bigint AS units,
  coalesce(sum(total_minor) FILTER (WHERE status = 'paid'), 0)::bigint AS gross_minor,
  coalesce(sum(discount_minor) FILTER (WHERE status = 'paid'), 0)::bigint AS discount_minor,
  coalesce(sum(paid_minor) FILTER (WHERE status = 'paid'), 0)::bigint AS net_minor,
  count(*) FILTER (WHERE status = 'refunded')::bigint AS refunded_orders,
  coalesce(sum(paid_minor) FILTER (WHERE status = 'refunded'), 0)::bigint AS refunded_minor,
  min(created_at) AS first_order_at,
  max(created_at) AS last_order_at
FROM orders
GROUP BY room_id, format, currency;

CREATE VIEW orders_by_hour AS
SELECT date_trunc('hour', created_at, 'UTC') AS hour_utc, room_id, format, currency,
  count(*)::bigint AS orders,
  count(*) FILTER (WHERE status = 'paid')::bigint AS paid_orders,
  coalesce(sum(qty) FILTER (WHERE status = 'paid'), 0)::bigint AS units,
  coalesce(sum(total_minor) FILTER (WHERE status = 'paid'), 0)::bigint AS gross_minor,
  coalesce(sum(discount_minor) FILTER (WHERE status = 'paid'), 0)::bigint AS discount_minor,
  coalesce(sum(paid_minor) FILTER (WHERE status = 'paid'), 0)::bigint AS net_minor,
  count(*) FILTER (WHERE status = 'refunded')::bigint AS refunded_orders,
  coalesce(sum(paid_minor) FILTER (WHERE status = 'refunded'), 0)::bigint AS refunded_minor
FROM orders
GROUP BY 1, room_id, format, currency;

CREATE VIEW coupon_cost AS
SELECT coupon_id, room_id, currency,
  count(*)::bigint AS paid_orders,
  sum(qty)::bigint AS units,
  sum(total_minor)::bigint AS gross_minor,
  sum(discount_minor)::bigint AS discount_minor,
  sum(paid_minor)::bigint AS net_minor,
  min(created_at) AS first_order_at,
  max(created_at) AS last_order_at
FROM orders
WHERE coupon_id IS NOT NULL AND status = 'paid'
GROUP BY coupon_id, room_id, currency;

CREATE VIEW drop_funnel AS
SELECT coalesce(o.drop_id, f.drop_id) AS drop_id,
  coalesce(o.room_id, f.room_id) AS room_id,
  coalesce(f.peak_viewers, 0) AS viewers,
  coalesce(f.buy_clicks, 0)::bigint AS buy_clicks,
  coalesce(o.holds, 0)::bigint AS holds,
  coalesce(o.paid, 0)::bigint AS paid,
  coalesce(f.final, false) AS final,
  f.taken_at AS snapshot_at
FROM (
  SELECT drop_id, min(room_id) AS room_id, count(*) AS holds,
    count(*) FILTER (WHERE paid_at IS NOT NULL) AS paid
  FROM orders GROUP BY drop_id
) o
FULL JOIN drop_funnel_snapshots f ON f.drop_id = o.drop_id;

COMMENT ON VIEW orders_by_drop IS 'Sales per drop (one row per drop, format and currency). Counts and sums over paid orders unless the column says otherwise.';
COMMENT ON VIEW orders_by_room IS 'Sales per room, format and currency, over every drop of the room.';
COMMENT ON VIEW orders_by_hour IS 'Sales per UTC hour the orders were placed in, per room, format and currency.';
COMMENT ON VIEW coupon_cost IS 'What each coupon cost: the discounts of the paid orders that used it, per room and currency.';
COMMENT ON VIEW drop_funnel IS 'The funnel per drop: viewers, buy clicks, holds, paid. Viewers and buy clicks come from the gateway''s snapshots (drop_funnel_snapshots); 0 before the first one.';

COMMENT ON COLUMN orders_by_drop.drop_id IS 'The drop (auction, giveaway and buy-it-now sell through a drop too).';
COMMENT ON COLUMN orders_by_drop.room_id IS 'The room the drop was sold in.';
COMMENT ON COLUMN orders_by_drop.format IS 'Selling format: drop, auction, giveaway or buy_now.';
COMMENT ON COLUMN orders_by_drop.currency IS 'ISO 4217 currency of every amount in the row.';
COMMENT ON COLUMN orders_by_drop.orders IS 'Orders of any status: every hold that became an order (pending, paid, expired, cancelled, refunded).';
COMMENT ON COLUMN orders_by_drop.paid_orders IS 'Orders paid (and not refunded).';
COMMENT ON COLUMN orders_by_drop.units IS 'Units in paid orders.';
COMMENT ON COLUMN orders_by_drop.gross_minor IS 'Gross sales: list price × units of paid orders (for an auction, the winning price), minor units.';
COMMENT ON COLUMN orders_by_drop.discount_minor IS 'Coupon discounts of paid orders, minor units.';
COMMENT ON COLUMN orders_by_drop.net_minor IS 'Net sales: what the buyers of paid orders paid (gross − discount), minor units.';
COMMENT ON COLUMN orders_by_drop.refunded_orders IS 'Orders paid and then refunded.';
COMMENT ON COLUMN orders_by_drop.refunded_minor IS 'What was paid back for refunded orders, minor units.';
COMMENT ON COLUMN orders_by_drop.first_order_at IS 'When the first order (hold) of the row was placed.';
COMMENT ON COLUMN orders_by_drop.last_order_at IS 'When the last order (hold) of the row was placed.';

COMMENT ON COLUMN orders_by_room.room_id IS 'The room.';
COMMENT ON COLUMN orders_by_room.format IS 'Selling format: drop, auction, giveaway or buy_now.';
COMMENT ON COLUMN orders_by_room.currency IS 'ISO 4217 currency of every amount in the row.';
COMMENT ON COLUMN orders_by_room.drops IS 'Drops of the room with at least one order.';
COMMENT ON COLUMN orders_by_room.orders IS 'Orders of any status.';
COMMENT ON COLUMN orders_by_room.paid_orders IS 'Orders paid (and not refunded).';
COMMENT ON COLUMN orders_by_room.units IS 'Units in paid orders.';
COMMENT ON COLUMN orders_by_room.gross_minor IS 'Gross sales of paid orders, minor units.';
COMMENT ON COLUMN orders_by_room.discount_minor IS 'Coupon discounts of paid orders, minor units.';
COMMENT ON COLUMN orders_by_room.net_minor IS 'Net sales (gross − discount) of paid orders, minor units.';
COMMENT ON COLUMN orders_by_room.refunded_orders IS 'Orders paid and then refunded.';
COMMENT ON COLUMN orders_by_room.refunded_minor IS 'What was paid back for refunded orders, minor units.';
COMMENT ON COLUMN orders_by_room.first_order_at IS 'When the first order of the row was placed.';
COMMENT ON COLUMN orders_by_room.last_order_at IS 'When the last order of the row was placed.';

COMMENT ON COLUMN orders_by_hour.hour_utc IS 'Start of the UTC hour the orders were placed in.';
COMMENT ON COLUMN orders_by_hour.room_id IS 'The room.';
COMMENT ON COLUMN orders_by_hour.format IS 'Selling format: drop, auction, giveaway or buy_now.';
COMMENT ON COLUMN orders_by_hour.currency IS 'ISO 4217 currency of every amount in the row.';
COMMENT ON COLUMN orders_by_hour.orders IS 'Orders of any status placed in the hour.';
COMMENT ON COLUMN orders_by_hour.paid_orders IS 'Of those, orders paid (and not refunded).';
COMMENT ON COLUMN orders_by_hour.units IS 'Units in paid orders.';
COMMENT ON COLUMN orders_by_hour.gross_minor IS 'Gross sales of paid orders, minor units.';
COMMENT ON COLUMN orders_by_hour.discount_minor IS 'Coupon discounts of paid orders, minor units.';
COMMENT ON COLUMN orders_by_hour.net_minor IS 'Net sales (gross − discount) of paid orders, minor units.';
COMMENT ON COLUMN orders_by_hour.refunded_orders IS 'Orders paid and then refunded.';
COMMENT ON COLUMN orders_by_hour.refunded_minor IS 'What was paid back for refunded orders, minor units.';

COMMENT ON COLUMN coupon_cost.coupon_id IS 'The coupon.';
COMMENT ON COLUMN coupon_cost.room_id IS 'The room it was used in.';
COMMENT ON COLUMN coupon_cost.currency IS 'ISO 4217 currency of every amount in the row.';
COMMENT ON COLUMN coupon_cost.paid_orders IS 'Paid orders that used the coupon.';
COMMENT ON COLUMN coupon_cost.units IS 'Units in those orders.';
COMMENT ON COLUMN coupon_cost.gross_minor IS 'Their list-price total, minor units.';
COMMENT ON COLUMN coupon_cost.discount_minor IS 'The coupon''s cost: the discounts taken off them, minor units.';
COMMENT ON COLUMN coupon_cost.net_minor IS 'What their buyers paid, minor units.';
COMMENT ON COLUMN coupon_cost.first_order_at IS 'When the first of those orders was placed.';
COMMENT ON COLUMN coupon_cost.last_order_at IS 'When the last of those orders was placed.';

COMMENT ON COLUMN drop_funnel.drop_id IS 'The drop.';
COMMENT ON COLUMN drop_funnel.room_id IS 'The room it was sold in.';
COMMENT ON COLUMN drop_funnel.viewers IS 'The most viewers its room had at any snapshot while the drop ran.';
COMMENT ON COLUMN drop_funnel.buy_clicks IS 'Buy presses that reached the sale engine, accepted or refused.';
COMMENT ON COLUMN drop_funnel.holds IS 'Holds placed (each became an order row).';
COMMENT ON COLUMN drop_funnel.paid IS 'Holds that were paid (refunded later included).';
COMMENT ON COLUMN drop_funnel.final IS 'The last snapshot was taken after the drop ended: viewers and buy clicks are final.';
COMMENT ON COLUMN drop_funnel.snapshot_at IS 'When viewers and buy clicks were last copied from the gateway (NULL: never).';

SELECT set_config('search_path', current_setting('livedrop.search_path_before'), true);
