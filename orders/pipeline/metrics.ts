import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { OrderQueues } from "./queues.ts";

/** BullMQ job states the queue gauge reports (a scrape costs one command per queue). */
const JOB_STATES = ["waiting", "active", "delayed", "failed"] as const;

/**
 * The order pipeline's Prometheus metrics, on the registry the process serves on /metrics (the
 * worker role's, or the gateway's when one process runs everything). Labels carry queue names
 * and job states only: no user, order or drop ids.
 */
export function createPipelineMetrics(registry: Registry) {
  let queues: OrderQueues | undefined;
  new Gauge({
    name: "livedrop_orders_jobs",
    help: "BullMQ jobs by queue (orders, holds) and state (waiting, active, delayed, failed)",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      if (!queues) return;
      const all = [queues.orders, queues.holds] as const;
      const counts = await Promise.all(all.map((q) => q.getJobCounts(...JOB_STATES).catch(() => undefined)));
      all.forEach((q, i) => {
        const c = counts[i];
        if (c) for (const state of JOB_STATES) this.set({ queue: q.name, state }, c[state] ?? 0);
      });
    },
  });
  return {
    /** The queues the job gauge reads; set once the pipeline opened them. */
    watchQueues(q: OrderQueues): void {
      queues = q;
    },
    orderLag: new Histogram({
      name: "livedrop_orders_hold_to_order_seconds",
      help: "Time from a hold being placed to the order worker writing its order row, seconds",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    jobsFailed: new Counter({
      name: "livedrop_orders_job_failures_total",
      help: "Order job attempts that failed (retried until their attempts run out)",
      registers: [registry],
    }),
    jobsStalled: new Counter({
      name: "livedrop_orders_jobs_stalled_total",
      help: "Order jobs whose worker lost its lock (died or blocked) and that were handed to another",
      registers: [registry],
    }),
    holdsWithoutOrder: new Gauge({
      name: "livedrop_orders_holds_without_order",
      help: "Holds older than the relay grace period with no order row, found by the last reconcile pass",
      registers: [registry],
    }),
    invariantViolations: new Gauge({
      name: "livedrop_sale_invariant_violations",
      help: "Active drops whose available + held + sold differs from initial + restocked (last reconcile pass)",
      registers: [registry],
    }),
    oversoldUnits: new Gauge({
      name: "livedrop_sale_oversold_units",
      help: "Units held or sold beyond initial + restocked, summed over active drops (last reconcile pass)",
      registers: [registry],
    }),
    reconcilePasses: new Counter({
      name: "livedrop_orders_reconcile_passes_total",
      help: "Reconcile passes completed (the holds and invariant gauges are as fresh as the last one)",
      registers: [registry],
    }),
  };
}

export type PipelineMetrics = ReturnType<typeof createPipelineMetrics>;
