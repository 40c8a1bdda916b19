import { Counter, Gauge, type Metric, Rate, Trend } from "k6/metrics";
import { CUSTOM_METRICS, METRICS, type MetricName, type MetricSpec } from "../../lib/scenarios.ts";
import type { Sink, Tags } from "../../lib/session.ts";

/**
 * The catalog's custom metrics as k6 metrics (created in the init context, as k6 requires) and a
 * Sink that the shared session code reports through.
 */
const registry = new Map<string, Metric>();
for (const name of CUSTOM_METRICS) {
  const spec: MetricSpec = METRICS[name];
  const metric =
    spec.kind === "trend"
      ? new Trend(name, spec.time === true)
      : spec.kind === "counter"
        ? new Counter(name)
        : spec.kind === "rate"
          ? new Rate(name)
          : new Gauge(name);
  registry.set(name, metric);
}

export function metric(name: MetricName): Metric {
  const m = registry.get(name);
  if (!m) throw new Error(`${name} is a k6 built-in metric; k6 records it itself`);
  return m;
}

export const k6Sink: Sink = {
  trend: (name: MetricName, value: number, tags?: Tags) => metric(name).add(value, tags),
  count: (name: MetricName, n: number, tags?: Tags) => metric(name).add(n, tags),
  rate: (name: MetricName, ok: boolean, tags?: Tags) => metric(name).add(ok, tags),
};
