import exec from "k6/execution";
import { setTimeout } from "k6/timers";
import { metric } from "./metrics.ts";

/**
 * The generator probe: a scenario of its own that, once a second, measures the k6 process
 * rather than the service. k6 gives scripts no CPU reading, so it times three things instead:
 * how late its iteration started against the schedule (`generator_iteration_lag_ms`), how late a
 * 50 ms timer fires (`generator_loop_lag_ms`), and how much longer a fixed piece of work takes
 * than it did in setup() before any load (`generator_cpu_slowdown`). With k6's own
 * `dropped_iterations` they say whether the generator kept up (lib/generator.ts judges them).
 */

const PROBE_EVERY_S = 1;
const TIMER_MS = 50;
/** The fixed work lasts about this long on an idle generator. */
const WORK_TARGET_MS = 8;

/** Measured in setup() and handed to the probe in the setup data. */
export interface ProbeCalibration {
  readonly loops: number;
  readonly baselineMs: number;
}

/** Integer busy work the runtime cannot skip (its result is used). */
function work(loops: number): number {
  let x = 2463534242;
  for (let i = 0; i < loops; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x;
}

function timeWork(loops: number): number {
  const t = Date.now();
  if (work(loops) === 0.5) throw new Error("unreachable");
  return Date.now() - t;
}

/** setup(): the number of loops that take about WORK_TARGET_MS now, and their best time. */
export function calibrateProbe(): ProbeCalibration {
  let loops = 10_000;
  while (timeWork(loops) < WORK_TARGET_MS && loops < 1e9) loops *= 2;
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) best = Math.min(best, timeWork(loops));
  return { loops, baselineMs: Math.max(1, best) };
}

/** The probe's scenario, running for `durationS` (the length of the load it watches). */
export function probeScenario(durationS: number) {
  return {
    executor: "constant-arrival-rate" as const,
    exec: "generatorProbe",
    rate: 1,
    timeUnit: `${PROBE_EVERY_S}s`,
    duration: `${Math.max(1, Math.ceil(durationS))}s`,
    preAllocatedVUs: 1,
    maxVUs: 2,
  };
}

/** The probe's iteration (export it from the script as `generatorProbe`). */
export function probe(calibration: ProbeCalibration | undefined): void {
  const due = exec.scenario.startTime + exec.scenario.iterationInTest * PROBE_EVERY_S * 1000;
  metric("generator_iteration_lag_ms").add(Math.max(0, Date.now() - due));
  if (calibration) metric("generator_cpu_slowdown").add(timeWork(calibration.loops) / calibration.baselineMs);
  const armed = Date.now();
  setTimeout(() => metric("generator_loop_lag_ms").add(Math.max(0, Date.now() - armed - TIMER_MS)), TIMER_MS);
}

/** The most VUs a set of scenarios can run at once: one token each. */
export function vusOf(
  scenarios: Record<
    string,
    {
      vus?: number;
      maxVUs?: number;
      preAllocatedVUs?: number;
      startVUs?: number;
      stages?: { target: number }[];
    }
  >,
): number {
  let total = 0;
  for (const s of Object.values(scenarios))
    total += Math.max(
      s.vus ?? 0,
      s.maxVUs ?? 0,
      s.preAllocatedVUs ?? 0,
      s.startVUs ?? 0,
      ...(s.stages ?? []).map((st) => st.target),
    );
  return total;
}
