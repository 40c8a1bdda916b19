import { METRICS, type MetricKind, type MetricName, type Thresholds } from "../lib/scenarios.ts";
import type { Sink, Tags } from "../lib/session.ts";
import { baseMetric, type MetricSummary, percentilesIn, round, trendValues } from "../lib/summary.ts";

/**
 * The Node driver's stand-in for k6's metric engine: raw trend samples, counter sums and rate
 * tallies, kept per worker, merged in the driver, and turned into k6-shaped summary values.
 * Sub-metrics (`http_req_duration{step:pay}`) are kept only when a threshold names them.
 */
export interface RecorderDump {
  readonly trends: Record<string, number[]>;
  readonly counters: Record<string, number>;
  readonly rates: Record<string, [passes: number, fails: number]>;
}

export class Recorder implements Sink {
  private readonly trends = new Map<string, number[]>();
  private readonly counters = new Map<string, number>();
  private readonly rates = new Map<string, [number, number]>();

  /** `wanted`: sub-metric keys (with tags) to keep, e.g. the scenario's threshold keys. */
  constructor(private readonly wanted: ReadonlySet<string> = new Set()) {}

  trend(name: MetricName, value: number, tags?: Tags): void {
    for (const key of this.keys(name, tags)) {
      const list = this.trends.get(key) ?? [];
      list.push(value);
      this.trends.set(key, list);
    }
  }

  count(name: MetricName, n: number, tags?: Tags): void {
    for (const key of this.keys(name, tags)) this.counters.set(key, (this.counters.get(key) ?? 0) + n);
  }

  rate(name: MetricName, ok: boolean, tags?: Tags): void {
    for (const key of this.keys(name, tags)) {
      const r = this.rates.get(key) ?? [0, 0];
      r[ok ? 0 : 1] += 1;
      this.rates.set(key, r);
    }
  }

  /** How many samples / the sum / the tally size of a metric so far (progress and waits). */
  tally(name: string): number {
    const r = this.rates.get(name);
    return this.trends.get(name)?.length ?? this.counters.get(name) ?? (r ? r[0] + r[1] : 0);
  }

  /** Small numbers for progress reports: each metric's tally. */
  tallies(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.trends.keys(), ...this.counters.keys(), ...this.rates.keys()])
      out[k] = this.tally(k);
    return out;
  }

  dump(): RecorderDump {
    return {
      trends: Object.fromEntries(this.trends),
      counters: Object.fromEntries(this.counters),
      rates: Object.fromEntries(this.rates),
    };
  }

  merge(d: RecorderDump): void {
    for (const [k, v] of Object.entries(d.trends)) {
      const list = this.trends.get(k) ?? [];
      for (const x of v) list.push(x);
      this.trends.set(k, list);
    }
    for (const [k, v] of Object.entries(d.counters)) this.counters.set(k, (this.counters.get(k) ?? 0) + v);
    for (const [k, [p, f]] of Object.entries(d.rates)) {
      const r = this.rates.get(k) ?? [0, 0];
      this.rates.set(k, [r[0] + p, r[1] + f]);
    }
  }

  /** k6-shaped values of every metric recorded, over a run of `durationS`. */
  summarize(durationS: number, thresholds: Thresholds): Record<string, MetricSummary> {
    const extra = percentilesIn(thresholds);
    const out: Record<string, MetricSummary> = {};
    const kindOf = (k: string): MetricKind =>
      (METRICS as Record<string, { kind: MetricKind }>)[baseMetric(k)]?.kind ?? "trend";
    for (const [k, v] of this.trends)
      out[k] = {
        type: "trend",
        contains: kindOf(k) === "trend" ? "time" : "default",
        values: trendValues(v, extra),
      };
    for (const [k, v] of this.counters)
      out[k] = { type: "counter", values: { count: v, rate: round(v / Math.max(durationS, 0.001), 3) } };
    for (const [k, [p, f]] of this.rates)
      out[k] = { type: "rate", values: { rate: p + f ? round(p / (p + f), 6) : 0, passes: p, fails: f } };
    return out;
  }

  private keys(name: string, tags?: Tags): string[] {
    const keys = [name];
    if (tags)
      for (const [t, v] of Object.entries(tags)) {
        const sub = `${name}{${t}:${v}}`;
        if (this.wanted.has(sub)) keys.push(sub);
      }
    return keys;
  }
}
