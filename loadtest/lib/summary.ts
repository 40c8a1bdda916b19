import type { GeneratorReport } from "./generator.ts";
import type { MetricSummary } from "./metric-summary.ts";
import { METRICS, type MetricKind, type ScenarioName, type Thresholds } from "./scenarios.ts";

/**
 * The summary both runners write (k6 from handleSummary's data, the Node driver from its
 * recorder): the metrics in k6's own value names (`p(95)`, `count`, `rate`...), each threshold
 * with its outcome, and the run's result line.
 */

export type { MetricSummary } from "./metric-summary.ts";

export interface ThresholdResult {
  readonly metric: string;
  readonly expr: string;
  readonly ok: boolean;
  /** The value the expression compared, when there was one. */
  readonly actual?: number;
}

export interface Series {
  readonly name: string;
  readonly unit: string;
  /** [seconds since start, value] */
  readonly points: readonly (readonly [number, number])[];
}

export interface RunSummary {
  readonly loadtest: ScenarioName;
  readonly runner: "k6" | "node";
  readonly ok: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
  /** Base URL of the system under test. */
  readonly target: string;
  readonly shadow: boolean;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly thresholds: readonly ThresholdResult[];
  readonly metrics: Readonly<Record<string, MetricSummary>>;
  /** The scenario's result line (the spike's is printed last on stdout). */
  readonly result: Readonly<Record<string, number | string | boolean>>;
  /** Over time (the Node driver samples these; k6's summary has no time series). */
  readonly series?: readonly Series[];
  readonly notes?: readonly string[];
  /** Whether the load generator was saturated, and the figures that say so. */
  readonly generator?: GeneratorReport;
}

const OPS = ["<=", ">=", "===", "==", "!=", "<", ">"] as const;
type Op = (typeof OPS)[number];

/** `p(99)<500` → { stat: "p(99)", op: "<", value: 500 }. */
export function parseThreshold(expr: string): { stat: string; op: Op; value: number } {
  const compact = expr.replace(/\s+/g, "");
  for (const op of OPS) {
    const i = compact.indexOf(op);
    if (i > 0) {
      const value = Number(compact.slice(i + op.length));
      if (Number.isFinite(value)) return { stat: compact.slice(0, i), op, value };
    }
  }
  throw new Error(`cannot read threshold "${expr}"`);
}

function compare(a: number, op: Op, b: number): boolean {
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "==":
    case "===":
      return a === b;
    case "!=":
      return a !== b;
  }
}

/**
 * Evaluates a threshold against a metric's values. A counter nobody added to counts as 0; any
 * other metric without samples fails (a latency threshold with nothing measured proves nothing).
 */
export function evaluateThreshold(
  expr: string,
  metric: MetricSummary | undefined,
  kind: MetricKind | undefined,
): { ok: boolean; actual?: number } {
  const { stat, op, value } = parseThreshold(expr);
  let actual = metric?.values[stat];
  if (actual === undefined && (metric?.type ?? kind) === "counter" && stat === "count") actual = 0;
  if (actual === undefined || !Number.isFinite(actual)) return { ok: false };
  return { ok: compare(actual, op, value), actual };
}

/** The metric a threshold key names: `http_req_duration{step:pay}` → `http_req_duration`. */
export function baseMetric(key: string): string {
  const i = key.indexOf("{");
  return i < 0 ? key : key.slice(0, i);
}

export function checkThresholds(
  thresholds: Thresholds,
  metrics: Readonly<Record<string, MetricSummary>>,
): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const [key, exprs] of Object.entries(thresholds)) {
    const kind = (METRICS as Record<string, { kind: MetricKind }>)[baseMetric(key)]?.kind;
    for (const expr of exprs) out.push({ metric: key, expr, ...evaluateThreshold(expr, metrics[key], kind) });
  }
  return out;
}

/** Percentile of sorted values the way k6 computes it (linear between neighbours). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  if (n === 1) return sorted[0] ?? 0;
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? 0;
  return a + (b - a) * (rank - lo);
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A trend's k6 values from raw samples (percentiles include any a threshold asks for). */
export function trendValues(
  samples: readonly number[],
  extraPercentiles: readonly number[] = [],
): Record<string, number> {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  const values: Record<string, number> = {
    count: n,
    avg: n ? round(sum / n, 3) : 0,
    min: n ? round(sorted[0] ?? 0, 3) : 0,
    med: round(percentile(sorted, 50), 3),
    max: n ? round(sorted[n - 1] ?? 0, 3) : 0,
  };
  for (const p of new Set([90, 95, 99, ...extraPercentiles]))
    values[`p(${p})`] = round(percentile(sorted, p), 3);
  return values;
}

/** Percentiles the thresholds ask for, e.g. `p(99.9)<800` → 99.9. */
export function percentilesIn(thresholds: Thresholds): number[] {
  const out: number[] = [];
  for (const exprs of Object.values(thresholds))
    for (const e of exprs) {
      const m = /^\s*p\(([\d.]+)\)/.exec(e);
      if (m) out.push(Number(m[1]));
    }
  return out;
}

/**
 * The spike's result line (the last stdout line of a spike run): these fields in this order,
 * then the generator's (generatorFields). `viewers` is the planned crowd, as it always was.
 */
export const SPIKE_LINE_FIELDS = [
  "viewers",
  "viewersPlanned",
  "viewersConnected",
  "stock",
  "sold",
  "oversold",
  "ackP99Ms",
  "holdsWithoutOrder",
] as const;

export function spikeLine(result: RunSummary["result"]): string {
  const line: Record<string, number | string | boolean> = { loadtest: "spike" };
  for (const k of SPIKE_LINE_FIELDS)
    line[k] = k === "ackP99Ms" ? round(Number(result[k]), 1) : Number(result[k]);
  for (const [k, v] of Object.entries(result)) if (!(k in line)) line[k] = v;
  return JSON.stringify(line);
}

/**
 * The auction's result line: these fields in this order, then the rest (`ok`, bid ack
 * percentiles, the crowd, the generator's figures).
 */
export const AUCTION_LINE_FIELDS = [
  "bidders",
  "bids",
  "accepted",
  "extensions",
  "winnerIsHighest",
  "oversold",
] as const;

export function auctionLine(summary: Pick<RunSummary, "ok" | "result">): string {
  const line: Record<string, number | string | boolean> = { loadtest: "auction" };
  for (const k of AUCTION_LINE_FIELDS) line[k] = summary.result[k] ?? (k === "winnerIsHighest" ? false : 0);
  line.ok = summary.ok;
  for (const [k, v] of Object.entries(summary.result)) if (!(k in line)) line[k] = v;
  return JSON.stringify(line);
}

/** The compact last line of any other scenario: its name, pass/fail and key numbers. */
export function resultLine(summary: Pick<RunSummary, "loadtest" | "ok" | "result">): string {
  return JSON.stringify({ loadtest: summary.loadtest, ok: summary.ok, ...summary.result });
}

/** The last stdout line of a run: the spike's line, or `{loadtest, ok, …}`. */
export function lastLineOf(summary: Pick<RunSummary, "loadtest" | "ok" | "result">): string {
  if (summary.loadtest === "spike") return spikeLine(summary.result);
  return summary.loadtest === "auction" ? auctionLine(summary) : resultLine(summary);
}
