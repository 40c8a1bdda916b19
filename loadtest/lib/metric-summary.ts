import type { MetricKind } from "./scenarios.ts";

/** One metric of a run's summary, in k6's own value names. */
export interface MetricSummary {
  readonly type: MetricKind;
  readonly contains?: "time" | "default" | "data";
  /** k6 value names: avg, min, med, max, p(90), p(95), p(99), count, rate, passes, fails, value. */
  readonly values: Readonly<Record<string, number>>;
}
