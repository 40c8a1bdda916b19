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
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
