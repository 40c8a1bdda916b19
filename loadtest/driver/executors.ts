import { type Stage, targetAt, totalSeconds } from "../lib/scenarios.ts";
import type { Series } from "../lib/summary.ts";
import type { WorkerPool } from "./pool.ts";
import type { BehaviourSpec } from "./protocol.ts";

/**
 * The Node driver's versions of the k6 executors the scripts use, driven by the same stages:
 * ramping VUs (sessions opened and closed to follow the target) and ramping arrivals (new
 * sessions started at a rate, whatever the ones before are doing: the open model).
 */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `done` every 200 ms until it holds or `timeoutMs` passes; `tick` draws progress. */
export async function until(
  done: () => boolean,
  timeoutMs: number,
  tick: () => void = () => undefined,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    tick();
    if (done()) return true;
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

/**
 * ramping-vus: sessions of planned viewers follow `stages`; viewer slot i uses token i. A slot
 * without a token (minting stopped short: counted already) opens nothing, since sharing another
 * viewer's token would make two viewers one user.
 */
export async function rampingSessions(
  pool: WorkerPool,
  stages: readonly Stage[],
  spec: BehaviourSpec,
  tokens: readonly string[],
  tick: (target: number) => void,
): Promise<void> {
  const total = totalSeconds(stages);
  const started = Date.now();
  let current = 0;
  // Slots past the tokens never open, so only the ones below tokens.length count as sessions.
  const live = (slots: number) => Math.min(slots, tokens.length);
  for (;;) {
    const elapsed = (Date.now() - started) / 1000;
    if (elapsed >= total) break;
    const target = Math.round(targetAt(stages, elapsed));
    if (target > current) {
      const batch = tokens.slice(current, target);
      if (batch.length) pool.open(spec, batch, true);
    } else if (live(current) > live(target)) {
      pool.close(live(current) - live(target), spec.kind);
    }
    current = target;
    tick(target);
    await sleep(100);
  }
}

/** ramping-arrival-rate: starts `rate(t)` sessions a second; returns how many it started. */
export async function rampingArrivals(
  stages: readonly Stage[],
  start: (n: number) => void,
  tick: (started: number) => void,
): Promise<number> {
  const total = totalSeconds(stages);
  const began = Date.now();
  let last = began;
  let due = 0;
  let started = 0;
  for (;;) {
    const now = Date.now();
    const elapsed = (now - began) / 1000;
    if (elapsed >= total) break;
    due += (targetAt(stages, elapsed) * (now - last)) / 1000;
    last = now;
    while (due >= 1) {
      due -= 1;
      start(started++);
    }
    tick(started);
    await sleep(50);
  }
  return started;
}

/** Samples the pool's figures every half second for the report's charts. */
export class Sampler {
  private readonly points = new Map<string, [number, number][]>();
  private readonly timer: NodeJS.Timeout;
  private readonly began = Date.now();

  constructor(
    private readonly pool: WorkerPool,
    /** [series name, unit, metric name or "open" for open sockets] */
    private readonly what: readonly (readonly [string, string, string])[],
  ) {
    this.timer = setInterval(() => this.sample(), 500);
    this.sample();
  }

  private sample(): void {
    const t = this.pool.tallies();
    const at = Math.round((Date.now() - this.began) / 100) / 10;
    for (const [name, , metric] of this.what) {
      const list = this.points.get(name) ?? [];
      list.push([at, metric === "open" ? t.open : (t.metrics[metric] ?? 0)]);
      this.points.set(name, list);
    }
  }

  stop(): Series[] {
    clearInterval(this.timer);
    this.sample();
    return this.what.map(([name, unit]) => ({ name, unit, points: this.points.get(name) ?? [] }));
  }
}
