import type { Logger, RedisClient } from "../../core/index.ts";
import { ValidationError, validate } from "../../core/index.ts";
import {
  DEFAULT_REPORT_LIMITS,
  DROP_SALES_COLUMNS,
  dropSales,
  type FunnelSource,
  hourlySales,
  type OrderStore,
  type ReportLimits,
  type ReportScope,
  ReportsPass,
  roomSummary,
  toCsv,
} from "../../orders/index.ts";
import {
  dropSalesReportSchema,
  type HourlySalesRow,
  hourlySalesReportSchema,
  type ReportQuery,
  reportQuerySchema,
  roomIdSchema,
  roomSummarySchema,
} from "../../protocol/index.ts";
import type { SaleEngine } from "../../sale-engine/index.ts";
import { reportsLeaseKey } from "../keys.ts";
import { Lease } from "../rooms/lease.ts";
import { roomViewers } from "../rooms/viewer-counts.ts";
import type { BuyClicks } from "./buy-clicks.ts";
import { parseQuery } from "./query.ts";
import { type GuardedResponse, send, sendJson } from "./respond.ts";
import { hostOfRoomParam } from "./route-access.ts";
import type { ApiRouter, RouteContext } from "./router.ts";

const DAY_MS = 86_400_000;
/** A range not given reaches back this far from `to`. */
const DEFAULT_RANGE_DAYS = 7;

const HOURLY_COLUMNS: readonly (keyof HourlySalesRow & string)[] = [
  "hourUtc",
  "roomId",
  "format",
  "currency",
  "orders",
  "paidOrders",
  "units",
  "grossMinor",
  "discountMinor",
  "netMinor",
  "refundedOrders",
  "refundedMinor",
];

/** The query's range: [from, to), `to` − `from` positive and at most the configured days. */
function rangeOf(q: ReportQuery, limits: ReportLimits): { from: Date; to: Date } {
  const to = q.to ? new Date(q.to) : new Date();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
  if (from.getTime() >= to.getTime())
    throw new ValidationError("invalid report range: `from` must be before `to`", { from, to });
  if (to.getTime() - from.getTime() > limits.maxRangeDays * DAY_MS)
    throw new ValidationError(`invalid report range: at most ${limits.maxRangeDays} days`, {
      maxRangeDays: limits.maxRangeDays,
    });
  return { from, to };
}

/** `20261102T100000Z`: a time as a file-name part. */
const stamp = (d: Date) => d.toISOString().replace(/[-:]|\.\d{3}/g, "");

/** A download: JSON (the protocol schema) or CSV of its rows, as an attachment named `name`. */
function download(g: GuardedResponse, q: ReportQuery, name: string, body: unknown, csv: () => string): void {
  const file = `${name}.${q.format}`;
  const headers = { "Content-Disposition": `attachment; filename="${file}"` };
  if (q.format === "csv") send(g, 200, csv(), "text/csv; charset=utf-8", headers);
  else sendJson(g, 200, body, headers);
}

/**
 * The BI report downloads, in the caller's lane (each lane's reporting views read its own orders),
 * JSON by default or CSV with `format=csv`, always as an attachment; a range is [from, to) in ISO
 * 8601, at most LIVEDROP_REPORTS_MAX_RANGE_DAYS long, default the last seven days:
 * - GET /api/v1/rooms/:room/reports/hourly: sales per UTC hour (a host of the room, or admin);
 * - GET /api/v1/rooms/:room/reports/drops: sales and funnel per drop (a host of the room, or admin);
 * - GET /api/v1/rooms/:room/reports/summary: the end-of-live summary, as written to the reports
 *   folder (no range: the room's whole history);
 * - GET /api/v1/reports/hourly and /api/v1/reports/drops: every room (admin).
 */
export function registerReportsApi(router: ApiRouter, limits: ReportLimits = DEFAULT_REPORT_LIMITS): void {
  const scope = (c: RouteContext<undefined>, roomId?: string) => {
    const q = parseQuery(reportQuerySchema, c.query, "report query");
    const scoped: ReportScope = {
      ...rangeOf(q, limits),
      maxRows: limits.maxRows,
      ...(roomId ? { roomId } : {}),
    };
    return { q, scoped, label: `${roomId ?? "all"}-${stamp(scoped.from)}-${stamp(scoped.to)}` };
  };
  const room = (c: RouteContext<undefined>) => validate(roomIdSchema, c.params[0], "room id");

  const hourly = async (c: RouteContext<undefined>, roomId?: string) => {
    const { q, scoped, label } = scope(c, roomId);
    const rows = await c.lane.store.report((db) => hourlySales(db, scoped));
    const body = { from: scoped.from.toISOString(), to: scoped.to.toISOString(), rows };
    download(c.g, q, `hourly-${label}`, body, () => toCsv(HOURLY_COLUMNS, rows));
  };
  const drops = async (c: RouteContext<undefined>, roomId?: string) => {
    const { q, scoped, label } = scope(c, roomId);
    const rows = await c.lane.store.report((db) => dropSales(db, scoped));
    const body = { from: scoped.from.toISOString(), to: scoped.to.toISOString(), rows };
    download(c.g, q, `drops-${label}`, body, () => toCsv(DROP_SALES_COLUMNS, rows));
  };

  router.route({
    method: "get",
    pattern: "/api/v1/rooms/:room/reports/hourly",
    name: "report.room.hourly",
    access: hostOfRoomParam,
    lanes: "any",
    response: hourlySalesReportSchema,
    handler: (c) => hourly(c, room(c)),
  });
  router.route({
    method: "get",
    pattern: "/api/v1/rooms/:room/reports/drops",
    name: "report.room.drops",
    access: hostOfRoomParam,
    lanes: "any",
    response: dropSalesReportSchema,
    handler: (c) => drops(c, room(c)),
  });
  router.route({
    method: "get",
    pattern: "/api/v1/rooms/:room/reports/summary",
    name: "report.room.summary",
    access: hostOfRoomParam,
    lanes: "any",
    response: roomSummarySchema,
    handler: async (c) => {
      const q = parseQuery(reportQuerySchema.pick({ format: true }), c.query, "report query");
      const summary = await c.lane.store.report((db) => roomSummary(db, room(c)));
      download(c.g, q, `summary-${summary.roomId}`, summary, () => toCsv(DROP_SALES_COLUMNS, summary.drops));
    },
  });
  router.route({
    method: "get",
    pattern: "/api/v1/reports/hourly",
    name: "report.hourly",
    access: { who: "admin" },
    lanes: "any",
    response: hourlySalesReportSchema,
    handler: (c) => hourly(c),
  });
  router.route({
    method: "get",
    pattern: "/api/v1/reports/drops",
    name: "report.drops",
    access: { who: "admin" },
    lanes: "any",
    response: dropSalesReportSchema,
    handler: (c) => drops(c),
  });
}

/**
 * The funnel's Redis-side figures as a gateway sees them: the viewers of each drop's room over
 * every node, and the drop's buy clicks (this node's unflushed ones included). For ReportsPass.
 */
export function gatewayFunnelSource(redis: RedisClient, keyPrefix: string, clicks: BuyClicks): FunnelSource {
  return {
    async read(drops) {
      const rooms = [...new Set(drops.map((d) => d.roomId))];
      const [viewers, counted] = await Promise.all([
        Promise.all(rooms.map((r) => roomViewers(redis, keyPrefix, r))),
        clicks.read(drops.map((d) => d.dropId)),
      ]);
      const byRoom = new Map(rooms.map((r, i) => [r, viewers[i] ?? 0]));
      return new Map(
        drops.map((d) => [
          d.dropId,
          { viewers: byRoom.get(d.roomId) ?? 0, buyClicks: counted.get(d.dropId) ?? 0 },
        ]),
      );
    },
  };
}

export interface GatewayReportsOptions {
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  readonly redis: RedisClient;
  readonly keyPrefix: string;
  readonly clicks: BuyClicks;
  readonly limits?: ReportLimits;
  readonly log: Logger;
}

/**
 * The reports pass of a gateway node (funnel snapshots, end-of-live summaries) on its live lane,
 * started; stop it with `stop()` when the node closes.
 */
export function startGatewayReports(o: GatewayReportsOptions): ReportsPass {
  const limits = o.limits ?? DEFAULT_REPORT_LIMITS;
  // One node of the fleet runs the rounds; the lease outlives three of its renewals, so a node
  // that dies hands the rounds over within three intervals.
  const everyS = Math.min(limits.funnelSnapshotS, limits.summaryIntervalS || limits.funnelSnapshotS);
  const leader = new Lease(o.redis, reportsLeaseKey(o.keyPrefix), 3 * everyS * 1000);
  return new ReportsPass({
    leader,
    engine: o.engine,
    store: o.store,
    funnel: gatewayFunnelSource(o.redis, o.keyPrefix, o.clicks),
    dir: limits.dir,
    funnelSnapshotS: limits.funnelSnapshotS,
    summaryIntervalS: limits.summaryIntervalS,
    summaryScanDrops: limits.summaryScanDrops,
    log: o.log,
  }).start();
}
