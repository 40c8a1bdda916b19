import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import type { Logger, RedisClient } from "../../core/index.ts";
import { type OrderQueues, type OrderStore, openQueues } from "../../orders/index.ts";
import type {
  DropInsight,
  GmvLine,
  Health,
  JobCounts,
  OpsOverview,
  RoomInsight,
} from "../../protocol/index.ts";
import type { DropStatus, SaleEngine } from "../../sale-engine/index.ts";
import { type GatewayMetrics, registerSaleGauges } from "../metrics.ts";
import { roomViewers } from "../rooms/viewer-counts.ts";
import type { BuyClicks } from "./buy-clicks.ts";

export interface InsightsOptions {
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  readonly redis: RedisClient;
  readonly keyPrefix: string;
  readonly clicks: BuyClicks;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
}

/** Rooms whose drops all ended longer ago than this leave the ops screen. */
const RECENT_MS = 24 * 3600_000;
/** The ops overview looks at this many of the newest drops. */
const MAX_DROPS = 500;
/** Overviews are shared between wall screens for this long. */
const OVERVIEW_CACHE_MS = 1_000;

/**
 * Read-only figures for the host console and the ops screen, from what already exists: the
 * sale engine's counters, the order store's aggregates, the viewer counts the gateway nodes
 * report, buy clicks, BullMQ job counts and Redis INFO.
 */
export class Insights {
  private queues: Promise<OrderQueues> | undefined;
  private readonly loopDelay: IntervalHistogram;
  private readonly resetTimer: NodeJS.Timeout;
  private cached: { at: number; value: Promise<OpsOverview> } | undefined;

  constructor(private readonly o: InsightsOptions) {
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
    this.loopDelay.enable();
    // A rolling window: the p99 shown covers the last ten seconds or so.
    this.resetTimer = setInterval(() => this.loopDelay.reset(), 10_000);
    this.resetTimer.unref();
    registerSaleGauges(o.metrics.registry, async () =>
      (await this.overview()).rooms.flatMap((r) =>
        r.drops.map((d) => ({ room: r.room, drop: d.dropId, ...d })),
      ),
    );
  }

  async close(): Promise<void> {
    clearInterval(this.resetTimer);
    this.loopDelay.disable();
    await this.queues?.then((q) => q.close()).catch(() => undefined);
    this.queues = undefined;
  }

  /** One room: viewers, and per drop stock, clicks, holds, paid orders, GMV, expiries. */
  async room(room: string): Promise<RoomInsight> {
    const ids = await this.o.engine.dropsInRoom(room);
    const statuses = await Promise.all(ids.map((id) => this.o.engine.status(id)));
    return this.roomFrom(room, statuses);
  }

  /** Every room with a drop that is not over, or that ended in the last day; plus health. */
  overview(): Promise<OpsOverview> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < OVERVIEW_CACHE_MS) return this.cached.value;
    const value = this.computeOverview();
    this.cached = { at: now, value };
    value.catch(() => {
      this.cached = undefined;
    });
    return value;
  }

  private async computeOverview(): Promise<OpsOverview> {
    const ids = (await this.o.engine.listDrops()).slice(-MAX_DROPS);
    const statuses = await Promise.all(ids.map((id) => this.o.engine.status(id)));
    const now = Date.now();
    const byRoom = new Map<string, DropStatus[]>();
    for (const s of statuses) byRoom.set(s.roomId, [...(byRoom.get(s.roomId) ?? []), s]);
    const live = [...byRoom].filter(([, drops]) =>
      drops.some((d) => d.state !== "ended" || now - d.createdAt < RECENT_MS),
    );
    const [rooms, health] = await Promise.all([
      Promise.all(live.map(([room, drops]) => this.roomFrom(room, drops))),
      this.health(),
    ]);
    rooms.sort((a, b) => gmvTotal(b.totals.gmv) - gmvTotal(a.totals.gmv) || b.viewers - a.viewers);
    return { serverTime: Date.now(), rooms, health };
  }

  private async roomFrom(room: string, statuses: readonly DropStatus[]): Promise<RoomInsight> {
    const ids = statuses.map((s) => s.dropId);
    const [viewers, clicks, entries, summaries] = await Promise.all([
      this.viewers(room),
      this.o.clicks.read(ids),
      this.o.clicks.readEntries(ids),
      Promise.all(ids.map((id) => this.o.store.dropSummary(id))),
    ]);
    const drops: DropInsight[] = statuses.map((s, i) => {
      const sum = summaries[i];
      return {
        dropId: s.dropId,
        title: s.product.title,
        state: s.state,
        format: s.format,
        priceMinor: s.product.priceMinor,
        currency: s.product.currency,
        stock: s.initial + s.restocked,
        available: s.available,
        held: s.held,
        sold: s.sold,
        buyClicks: clicks.get(s.dropId) ?? 0,
        entries: entries.get(s.dropId) ?? 0,
        holds: sum?.orders ?? 0,
        paidOrders: sum?.paidOrders ?? 0,
        unitsSold: sum?.unitsSold ?? 0,
        gmvMinor: sum?.gmvMinor ?? 0,
        netGmvMinor: sum?.netGmvMinor ?? 0,
        couponCostMinor: sum?.couponCostMinor ?? 0,
        expiredUnits: sum?.expiredUnits ?? 0,
        startsAt: s.startsAt,
      };
    });
    drops.sort((a, b) => b.startsAt - a.startsAt);
    const add = (f: (d: DropInsight) => number) => drops.reduce((n, d) => n + f(d), 0);
    const perCurrency = (f: (d: DropInsight) => number): GmvLine[] => {
      const lines = new Map<string, number>();
      for (const d of drops) if (f(d) > 0) lines.set(d.currency, (lines.get(d.currency) ?? 0) + f(d));
      return [...lines]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([currency, minor]) => ({ currency, minor }));
    };
    const holds = add((d) => d.holds);
    const paidOrders = add((d) => d.paidOrders);
    return {
      room,
      serverTime: Date.now(),
      viewers,
      drops,
      totals: {
        buyClicks: add((d) => d.buyClicks),
        entries: add((d) => d.entries),
        holds,
        paidOrders,
        unitsSold: add((d) => d.unitsSold),
        expiredUnits: add((d) => d.expiredUnits),
        gmv: perCurrency((d) => d.gmvMinor),
        netGmv: perCurrency((d) => d.netGmvMinor),
        couponCost: perCurrency((d) => d.couponCostMinor),
      },
      conversion: holds === 0 ? null : paidOrders / holds,
    };
  }

  private viewers(room: string): Promise<number> {
    return roomViewers(this.o.redis, this.o.keyPrefix, room);
  }

  async health(): Promise<Health> {
    const [redis, queues, store, connections] = await Promise.all([
      this.redisHealth(),
      this.queueHealth(),
      timed(() => this.o.store.ping()),
      this.o.metrics.connections.get().then((m) => m.values[0]?.value ?? 0),
    ]);
    const p99 = this.loopDelay.percentile(99) / 1e6;
    return {
      gateway: {
        ok: true,
        connections,
        rssBytes: process.memoryUsage.rss(),
        uptimeS: Math.round(process.uptime()),
        eventLoopP99Ms: Number.isFinite(p99) ? Math.round(p99 * 10) / 10 : 0,
      },
      redis,
      queues,
      store: { ok: store !== null, pingMs: store },
    };
  }

  private async redisHealth(): Promise<Health["redis"]> {
    const pingMs = await timed(() => this.o.redis.ping());
    let info = "";
    try {
      info = await this.o.redis.info();
    } catch {
      // INFO may be disabled on a managed Redis; ping alone tells it is up
    }
    const field = (name: string) => {
      const m = new RegExp(`^${name}:(\\d+)`, "m").exec(info);
      return m?.[1] === undefined ? null : Number(m[1]);
    };
    return {
      ok: pingMs !== null,
      pingMs,
      usedMemoryBytes: field("used_memory"),
      connectedClients: field("connected_clients"),
      opsPerSec: field("instantaneous_ops_per_sec"),
    };
  }

  private async queueHealth(): Promise<Health["queues"]> {
    try {
      this.queues ??= openQueues(this.o.redis, this.o.keyPrefix);
      const queues = await this.queues;
      const types = ["waiting", "active", "delayed", "failed", "completed"] as const;
      const [orders, holds] = await Promise.all([
        queues.orders.getJobCounts(...types),
        queues.holds.getJobCounts(...types),
      ]);
      return { ok: true, orders: jobCounts(orders), holds: jobCounts(holds) };
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, "queue health unavailable");
      return { ok: false, orders: null, holds: null };
    }
  }
}

function jobCounts(c: Record<string, number>): JobCounts {
  return {
    waiting: c.waiting ?? 0,
    active: c.active ?? 0,
    delayed: c.delayed ?? 0,
    failed: c.failed ?? 0,
    completed: c.completed ?? 0,
  };
}

function gmvTotal(lines: readonly GmvLine[]): number {
  return lines.reduce((n, l) => n + l.minor, 0);
}

/** Milliseconds `fn` took, or null when it failed or took over two seconds. */
async function timed(fn: () => Promise<unknown>): Promise<number | null> {
  const start = performance.now();
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 2_000).unref()),
    ]);
    return Math.round((performance.now() - start) * 10) / 10;
  } catch {
    return null;
  }
}
