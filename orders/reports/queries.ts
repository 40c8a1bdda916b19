import { ValidationError } from "../../core/index.ts";
import type { CouponCostRow, DropSalesRow, HourlySalesRow, RoomTotalsRow } from "../../protocol/index.ts";
import type { SqlClient } from "../store/index.ts";
import { reportingSchema } from "./reporting-schema.ts";

/** Which rows a report covers: one room or all, orders placed in [from, to), at most maxRows. */
export interface ReportScope {
  /** Absent: every room (admin). */
  readonly roomId?: string;
  readonly from: Date;
  readonly to: Date;
  /** More matching rows than this is refused (LIVEDROP_REPORTS_MAX_ROWS). */
  readonly maxRows: number;
}

type Row = Record<string, unknown>;

/** int8 and numeric come back as strings from pg, numbers from PGlite. */
const num = (v: unknown): number => Number(v ?? 0);
const iso = (v: unknown): string => new Date(v as string | Date).toISOString();

function sales(r: Row) {
  return {
    format: String(r.format),
    currency: String(r.currency).trim(),
    orders: num(r.orders),
    paidOrders: num(r.paid_orders),
    units: num(r.units),
    grossMinor: num(r.gross_minor),
    discountMinor: num(r.discount_minor),
    netMinor: num(r.net_minor),
    refundedOrders: num(r.refunded_orders),
    refundedMinor: num(r.refunded_minor),
  };
}

/** Rows past the limit are refused rather than cut: a silently short report reads as complete. */
function bounded<T>(rows: T[], scope: ReportScope): T[] {
  if (rows.length > scope.maxRows)
    throw new ValidationError(
      `the report has more than ${scope.maxRows} rows: ask for a shorter date range`,
      { maxRows: scope.maxRows },
    );
  return rows;
}

/** reporting_v1.orders_by_hour in the scope, oldest hour first. */
export async function hourlySales(db: SqlClient, scope: ReportScope): Promise<HourlySalesRow[]> {
  const s = await reportingSchema(db);
  const rows = await db.query<Row>(
    `SELECT * FROM ${s}.orders_by_hour
     WHERE hour_utc >= $1 AND hour_utc < $2 AND ($3::text IS NULL OR room_id = $3)
     ORDER BY hour_utc, room_id, format, currency LIMIT $4`,
    [scope.from.toISOString(), scope.to.toISOString(), scope.roomId ?? null, scope.maxRows + 1],
  );
  return bounded(rows, scope).map((r) => ({
    hourUtc: iso(r.hour_utc),
    roomId: String(r.room_id),
    ...sales(r),
  }));
}

/**
 * reporting_v1.orders_by_drop with each drop's funnel (reporting_v1.drop_funnel), for drops with
 * an order placed in the scope's range, in the order their first order was placed.
 */
export async function dropSales(db: SqlClient, scope: ReportScope): Promise<DropSalesRow[]> {
  const s = await reportingSchema(db);
  const rows = await db.query<Row>(
    `SELECT d.*, f.viewers, f.buy_clicks, f.holds, f.paid
     FROM ${s}.orders_by_drop d JOIN ${s}.drop_funnel f ON f.drop_id = d.drop_id
     WHERE d.last_order_at >= $1 AND d.first_order_at < $2 AND ($3::text IS NULL OR d.room_id = $3)
     ORDER BY d.first_order_at, d.drop_id, d.format, d.currency LIMIT $4`,
    [scope.from.toISOString(), scope.to.toISOString(), scope.roomId ?? null, scope.maxRows + 1],
  );
  return bounded(rows, scope).map(dropRow);
}

function dropRow(r: Row): DropSalesRow {
  return {
    dropId: String(r.drop_id),
    roomId: String(r.room_id),
    ...sales(r),
    firstOrderAt: iso(r.first_order_at),
    lastOrderAt: iso(r.last_order_at),
    viewers: num(r.viewers),
    buyClicks: num(r.buy_clicks),
    holds: num(r.holds),
    paid: num(r.paid),
  };
}

/** Every drop of one room with its funnel, whenever it sold. */
export async function roomDropSales(db: SqlClient, roomId: string): Promise<DropSalesRow[]> {
  const s = await reportingSchema(db);
  const rows = await db.query<Row>(
    `SELECT d.*, f.viewers, f.buy_clicks, f.holds, f.paid
     FROM ${s}.orders_by_drop d JOIN ${s}.drop_funnel f ON f.drop_id = d.drop_id
     WHERE d.room_id = $1 ORDER BY d.first_order_at, d.drop_id, d.format, d.currency`,
    [roomId],
  );
  return rows.map(dropRow);
}

/** reporting_v1.orders_by_room for one room. */
export async function roomTotals(db: SqlClient, roomId: string): Promise<RoomTotalsRow[]> {
  const s = await reportingSchema(db);
  const rows = await db.query<Row>(
    `SELECT * FROM ${s}.orders_by_room WHERE room_id = $1 ORDER BY format, currency`,
    [roomId],
  );
  return rows.map((r) => ({ roomId: String(r.room_id), drops: num(r.drops), ...sales(r) }));
}

/** reporting_v1.coupon_cost for one room (a coupon used in several currencies: a row each). */
export async function roomCouponCost(db: SqlClient, roomId: string): Promise<CouponCostRow[]> {
  const s = await reportingSchema(db);
  const rows = await db.query<Row>(
    `SELECT * FROM ${s}.coupon_cost WHERE room_id = $1 ORDER BY coupon_id, currency`,
    [roomId],
  );
  return rows.map((r) => ({
    couponId: String(r.coupon_id),
    currency: String(r.currency).trim(),
    paidOrders: num(r.paid_orders),
    units: num(r.units),
    grossMinor: num(r.gross_minor),
    discountMinor: num(r.discount_minor),
    netMinor: num(r.net_minor),
  }));
}

/** The last change to the room's orders or funnel snapshots (what a summary is "as of"). */
export async function roomAsOf(db: SqlClient, roomId: string): Promise<string | null> {
  const [row] = await db.query<{ at: unknown }>(
    `SELECT greatest(
       (SELECT max(updated_at) FROM orders WHERE room_id = $1),
       (SELECT max(taken_at) FROM drop_funnel_snapshots WHERE room_id = $1)) AS at`,
    [roomId],
  );
  return row?.at ? iso(row.at) : null;
}
