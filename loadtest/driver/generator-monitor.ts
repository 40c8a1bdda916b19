import os from "node:os";
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import type { Sink } from "../lib/session.ts";

/**
 * Watches one load process (the driver or a worker) once a second: its CPU (% of one core, where
 * its event loop runs) into `generator_cpu_pct` and its longest event-loop stall into
 * `generator_loop_lag_ms`; with `host`, the machine's CPU into `generator_host_cpu_pct`.
 * lib/generator.ts turns them into the saturated-or-not verdict.
 */

/** Sampling interval, ms. */
const EVERY_MS = 1_000;
/** The delay histogram's resolution, ms (finer costs more timer wake-ups). */
const RESOLUTION_MS = 10;

function hostTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.irq + t.idle;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

export class GeneratorMonitor {
  private readonly timer: NodeJS.Timeout;
  private readonly delay: IntervalHistogram;
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private lastHost = hostTimes();

  constructor(
    private readonly sink: Sink,
    private readonly host = false,
  ) {
    this.delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.delay.enable();
    this.timer = setInterval(() => this.sample(), EVERY_MS);
    this.timer.unref();
  }

  private sample(): void {
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const wallUs = (now - this.lastAt) * 1000;
    if (wallUs > 0) this.sink.trend("generator_cpu_pct", ((cpu.user + cpu.system) / wallUs) * 100);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    // The histogram holds each resolution timer's whole interval, in ns: the stall is the excess.
    if (this.delay.count > 0)
      this.sink.trend("generator_loop_lag_ms", Math.max(0, this.delay.max / 1e6 - RESOLUTION_MS));
    this.delay.reset();
    if (this.host) {
      const h = hostTimes();
      const total = h.total - this.lastHost.total;
      if (total > 0) this.sink.trend("generator_host_cpu_pct", ((h.busy - this.lastHost.busy) / total) * 100);
      this.lastHost = h;
    }
  }

  /** Stops sampling (safe to call twice). */
  stop(): void {
    clearInterval(this.timer);
    this.delay.disable();
  }
}
