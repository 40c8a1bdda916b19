import { z } from "zod";

/**
 * The BI report downloads (GET …/reports/…): the query every one takes, and the JSON answer of
 * each (`format=csv` answers the same rows as CSV, one header line of the same column names).
 * Amounts are integers in minor units of the row's currency; times are ISO 8601 UTC.
 */

/** The date range and answer format of a download; `from` defaults to `to` − 7 days, `to` to now. */
export const reportQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  format: z.enum(["json", "csv"]).default("json"),
});
export type ReportQuery = z.infer<typeof reportQuerySchema>;

const count = z.number().int().nonnegative();
const minor = z.number().int();
const time = z.iso.datetime({ offset: true });

/** What every sales row counts (reporting_v1 columns of the same names, in camelCase). */
const salesFields = {
  format: z.string(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  orders: count,
  paidOrders: count,
  units: count,
  grossMinor: minor,
  discountMinor: minor,
  netMinor: minor,
  refundedOrders: count,
  refundedMinor: minor,
};

/** One row of reporting_v1.orders_by_hour. */
export const hourlySalesRowSchema = z.strictObject({
  hourUtc: time,
  roomId: z.string(),
  ...salesFields,
});
export type HourlySalesRow = z.infer<typeof hourlySalesRowSchema>;

/** One row of reporting_v1.orders_by_drop joined with its funnel (reporting_v1.drop_funnel). */
export const dropSalesRowSchema = z.strictObject({
  dropId: z.string(),
  roomId: z.string(),
  ...salesFields,
  firstOrderAt: time,
  lastOrderAt: time,
  viewers: count,
  buyClicks: count,
  holds: count,
  paid: count,
});
export type DropSalesRow = z.infer<typeof dropSalesRowSchema>;

const range = { from: time, to: time };

export const hourlySalesReportSchema = z.strictObject({ ...range, rows: z.array(hourlySalesRowSchema) });
export type HourlySalesReport = z.infer<typeof hourlySalesReportSchema>;

export const dropSalesReportSchema = z.strictObject({ ...range, rows: z.array(dropSalesRowSchema) });
export type DropSalesReport = z.infer<typeof dropSalesReportSchema>;

/** Totals of one room per format and currency (reporting_v1.orders_by_room). */
export const roomTotalsRowSchema = z.strictObject({ roomId: z.string(), drops: count, ...salesFields });
export type RoomTotalsRow = z.infer<typeof roomTotalsRowSchema>;

/** What the coupons of a room cost (reporting_v1.coupon_cost). */
export const couponCostRowSchema = z.strictObject({
  couponId: z.string(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  paidOrders: count,
  units: count,
  grossMinor: minor,
  discountMinor: minor,
  netMinor: minor,
});
export type CouponCostRow = z.infer<typeof couponCostRowSchema>;

/**
 * The end-of-live summary of a room: its totals, every drop with its funnel, and its coupons'
 * cost. Written as `<room>.json` (this) and `<room>.csv` (the drops) into the reports folder,
 * and served by GET /api/v1/rooms/:room/reports/summary. `asOf` is the last change it includes
 * (not the time it was written), so the same orders give the same bytes.
 */
export const roomSummarySchema = z.strictObject({
  version: z.literal(1),
  roomId: z.string(),
  asOf: time.nullable(),
  totals: z.array(roomTotalsRowSchema),
  drops: z.array(dropSalesRowSchema),
  coupons: z.array(couponCostRowSchema),
});
export type RoomSummary = z.infer<typeof roomSummarySchema>;
