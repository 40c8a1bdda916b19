import type { MetricSummary } from "./metric-summary.ts";

/**
 * Was the load generator itself the bottleneck? A generator short of CPU fires late, reads
 * frames late and inflates every latency it measures, so a threshold failure on a saturated
 * generator may say nothing about the service. Both runners measure it (the Node driver: each
 * load process's CPU and event-loop delay; k6: a probe scenario's timer and iteration lag, a
 * fixed piece of work's slowdown, and dropped iterations) and put the verdict in the summary and
 * the result line.
 */

/** Above any of these the generator counts as saturated. Figures are p95 over the run's seconds. */
export interface GeneratorLimits {
  /** Node: a load process's CPU, % of one core (an event loop runs on one). Default 90. */
  readonly cpuPct: number;
  /** k6: the probe's work took this many times its setup() time. Default 2. */
  readonly cpuSlowdown: number;
  /** Event-loop delay (Node) or the probe's timer overshoot (k6), ms. Default 50. */
  readonly lagMs: number;
  /** k6: how late the probe's iterations started, ms. Default 100. */
  readonly iterationLagMs: number;
  /** k6: iterations dropped by arrival-rate executors above this many. Default 0. */
  readonly droppedIterations: number;
}

export const GENERATOR_LIMITS: GeneratorLimits = {
  cpuPct: 90,
  cpuSlowdown: 2,
  lagMs: 50,
  iterationLagMs: 100,
  droppedIterations: 0,
};

export interface GeneratorReport {
  readonly saturated: boolean;
  /** One line per limit crossed; empty when not saturated. */
  readonly reasons: readonly string[];
  /** p95 of the load processes' CPU samples, % of one core (Node). */
  readonly cpuPct?: number;
  /** p95 of the generator machine's CPU, % of all its cores (Node; the service may share it). */
  readonly hostCpuPct?: number;
  /** p95 of the probe's work time over its setup() time (k6). */
  readonly cpuSlowdown?: number;
  /** p95 of the event-loop delay samples, ms. */
  readonly lagP95Ms?: number;
  /** p95 of the probe's iteration start lag, ms (k6). */
  readonly iterationLagP95Ms?: number;
  /** Arrivals the arrival-rate executors could not start (k6). */
  readonly droppedIterations?: number;
}

const p95 = (m: MetricSummary | undefined) =>
  m && (m.values.count ?? 0) > 0 ? m.values["p(95)"] : undefined;

/** The verdict from a run's metrics (either runner: absent figures are not judged). */
export function generatorReport(
  metrics: Readonly<Record<string, MetricSummary>>,
  limits: GeneratorLimits = GENERATOR_LIMITS,
): GeneratorReport {
  const cpuPct = p95(metrics.generator_cpu_pct);
  const hostCpuPct = p95(metrics.generator_host_cpu_pct);
  const cpuSlowdown = p95(metrics.generator_cpu_slowdown);
  const lagP95Ms = p95(metrics.generator_loop_lag_ms);
  const iterationLagP95Ms = p95(metrics.generator_iteration_lag_ms);
  const dropped = metrics.dropped_iterations?.values.count;
  const reasons: string[] = [];
  const over = (value: number | undefined, limit: number, what: string, unit: string) => {
    if (value !== undefined && value > limit)
      reasons.push(`${what} p95 ${Math.round(value * 10) / 10}${unit} > ${limit}${unit}`);
  };
  over(cpuPct, limits.cpuPct, "load process CPU", " %");
  over(cpuSlowdown, limits.cpuSlowdown, "probe work slowdown", "×");
  over(lagP95Ms, limits.lagMs, "event-loop delay", " ms");
  over(iterationLagP95Ms, limits.iterationLagMs, "probe iteration lag", " ms");
  if (dropped !== undefined && dropped > limits.droppedIterations)
    reasons.push(`${dropped} iterations dropped (no free VU) > ${limits.droppedIterations}`);
  return {
    saturated: reasons.length > 0,
    reasons,
    ...(cpuPct !== undefined ? { cpuPct } : {}),
    ...(hostCpuPct !== undefined ? { hostCpuPct } : {}),
    ...(cpuSlowdown !== undefined ? { cpuSlowdown } : {}),
    ...(lagP95Ms !== undefined ? { lagP95Ms } : {}),
    ...(iterationLagP95Ms !== undefined ? { iterationLagP95Ms } : {}),
    ...(dropped !== undefined ? { droppedIterations: dropped } : {}),
  };
}

/** The result line's generator fields: the verdict and the figures this runner measured. */
export function generatorFields(g: GeneratorReport): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = { generatorSaturated: g.saturated };
  if (g.cpuPct !== undefined) out.generatorCpuP95Pct = g.cpuPct;
  if (g.cpuSlowdown !== undefined) out.generatorCpuSlowdownP95 = g.cpuSlowdown;
  if (g.lagP95Ms !== undefined) out.generatorLagP95Ms = g.lagP95Ms;
  if (g.iterationLagP95Ms !== undefined) out.generatorIterationLagP95Ms = g.iterationLagP95Ms;
  if (g.droppedIterations !== undefined) out.droppedIterations = g.droppedIterations;
  return out;
}
