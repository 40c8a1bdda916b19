export { safeCell, toCsv } from "./csv.ts";
export { type FunnelSnapshot, funnelSnapshotSchema, recordFunnelSnapshots } from "./funnel-snapshots.ts";
export {
  dropSales,
  hourlySales,
  type ReportScope,
  roomCouponCost,
  roomDropSales,
  roomTotals,
} from "./queries.ts";
export { DEFAULT_REPORT_LIMITS, type ReportLimits, reportLimitsFromConfig } from "./report-limits.ts";
export { REPORTING_VERSION, reportingSchema } from "./reporting-schema.ts";
export { type FunnelSource, ReportsPass, type ReportsPassOptions, type RoundLeader } from "./reports-pass.ts";
export { DROP_SALES_COLUMNS, roomSummary, type WrittenSummary, writeRoomSummary } from "./room-summary.ts";
