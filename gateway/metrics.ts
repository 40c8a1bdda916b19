import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The gateway's Prometheus metrics; one registry per server (tests run several in a process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "livedrop_gateway_" });
  return {
    registry,
    httpRequests: new Counter({
      name: "livedrop_http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["route", "status"] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "livedrop_http_request_duration_seconds",
      help: "HTTP request duration by route",
      labelNames: ["route"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    connections: new Gauge({
      name: "livedrop_ws_connections",
      help: "Open WebSocket connections on this node",
      registers: [registry],
    }),
    slowClosed: new Counter({
      name: "livedrop_ws_slow_closed_total",
      help: "Sockets closed with TOO_SLOW (4008) because their send queue passed the limit",
      registers: [registry],
    }),
    roomStepTimeouts: new Counter({
      name: "livedrop_gateway_room_step_timeouts_total",
      help: "Steps of a room's delivery order abandoned past GATEWAY_ROOM_STEP_TIMEOUT_MS, by kind",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    joinFailures: new Counter({
      name: "livedrop_gateway_room_enter_failures_total",
      help: "Joins and resumes answered UNAVAILABLE (deadline passed or Redis failed), by kind",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    joinLatency: new Histogram({
      name: "livedrop_gateway_join_seconds",
      help: "Time from a join frame to its joined snapshot being sent, seconds",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    fanoutLatency: new Histogram({
      name: "livedrop_gateway_fanout_seconds",
      help: "Time from a drop event (its server time) to this node handing its frame to the room, seconds",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    redisPing: new Gauge({
      name: "livedrop_redis_ping_seconds",
      help: "Round trip of the last PING this gateway sent to Redis, seconds (sampled, see redis-health.ts)",
      registers: [registry],
    }),
    redisMemoryUsed: new Gauge({
      name: "livedrop_redis_memory_used_bytes",
      help: "Redis INFO memory used_memory, bytes (sampled by the gateway)",
      registers: [registry],
    }),
    redisMemoryMax: new Gauge({
      name: "livedrop_redis_memory_max_bytes",
      help: "Redis INFO memory maxmemory, bytes; 0 means no limit (sampled by the gateway)",
      registers: [registry],
    }),
    redisHealthFailures: new Counter({
      name: "livedrop_redis_health_failures_total",
      help: "Redis health samples (PING, INFO memory) that failed",
      registers: [registry],
    }),
  };
}

/** Whether this gateway serves the shadow (load-test) lane right now: 1 on, 0 off. */
export function registerShadowGauge(registry: Registry, enabled: () => boolean): void {
  new Gauge({
    name: "livedrop_gateway_shadow_enabled",
    help: "Shadow (load-test) traffic switch as this gateway sees it: 1 on, 0 off",
    registers: [registry],
    collect() {
      this.set(enabled() ? 1 : 0);
    },
  });
}

/** The sale figures the ops screen shows, per drop of the overview (bounded: the overview's drops). */
export interface SaleFigure {
  readonly room: string;
  readonly drop: string;
  readonly currency: string;
  readonly buyClicks: number;
  readonly holds: number;
  readonly paidOrders: number;
  readonly gmvMinor: number;
  readonly available: number;
}

/**
 * Funnel and GMV gauges computed at scrape time from the Insights overview (cached there for a
 * second, so several scrapers cost one overview). They only grow while a drop is listed, so
 * rate() over them gives clicks, holds and orders per second.
 */
export function registerSaleGauges(registry: Registry, read: () => Promise<readonly SaleFigure[]>): void {
  // A scrape collects the five gauges together: they share one read of the figures.
  let inFlight: Promise<readonly SaleFigure[] | undefined> | undefined;
  const readOnce = () => {
    inFlight ??= read()
      .catch(() => undefined)
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  const gauge = (name: string, help: string, value: (f: SaleFigure) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["room", "drop", "currency"] as const,
      registers: [registry],
      async collect() {
        const all = await readOnce();
        if (!all) return;
        this.reset();
        for (const f of all) this.set({ room: f.room, drop: f.drop, currency: f.currency }, value(f));
      },
    });
  gauge("livedrop_sale_buy_clicks", "Buy presses per drop (funnel step 1)", (f) => f.buyClicks);
  gauge("livedrop_sale_holds", "Holds placed per drop, as orders written (funnel step 2)", (f) => f.holds);
  gauge("livedrop_sale_paid_orders", "Paid orders per drop (funnel step 3)", (f) => f.paidOrders);
  gauge(
    "livedrop_sale_gmv_minor",
    "Gross merchandise value of paid orders, minor currency units",
    (f) => f.gmvMinor,
  );
  gauge("livedrop_sale_available_units", "Units still available per drop", (f) => f.available);
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
