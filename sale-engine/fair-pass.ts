import type { Logger, PeriodicPass } from "../core/index.ts";
import type { SaleEngine } from "./engine.ts";

/**
 * The fair pass: allocates the fair windows and raffles that have closed. It wakes at the next
 * close (server clock, read from the pending index after each pass) or after `maxIntervalMs`,
 * whichever comes first, so a draw runs within milliseconds of T0 + W rather than up to a whole
 * interval later; the interval still bounds how late a close that a launch just moved is seen.
 * A failed pass (Redis restarting) is logged and retried after the interval.
 */
export function startFairPass(engine: SaleEngine, maxIntervalMs: number, log: Logger): PeriodicPass {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const schedule = (ms: number) => {
    if (!stopped) timer = setTimeout(tick, ms);
  };
  const tick = () => {
    running = pass(engine, maxIntervalMs, log).then(schedule, (err: unknown) => {
      log.warn({ err }, "fair window pass failed; retrying next interval");
      schedule(maxIntervalMs);
    });
  };
  // At once: windows that closed while no worker ran are drawn on start.
  schedule(0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** One pass; answers how long to sleep before the next. */
async function pass(engine: SaleEngine, maxIntervalMs: number, log: Logger): Promise<number> {
  for (const a of await engine.allocateDueFairWindows())
    if (a.allocated)
      log.info({ dropId: a.dropId, winners: a.winners, losers: a.losers }, "fair window allocated");
  return nextWakeMs(await engine.msUntilNextFairClose(), maxIntervalMs);
}

/**
 * How long the fair pass sleeps, given the time until the next close still ahead (null: none):
 * until one past that close (the allocation treats the close's own millisecond as still open), at
 * most the interval, which also bounds how late a close that a launch moved earlier is seen.
 */
export function nextWakeMs(untilNextClose: number | null, maxIntervalMs: number): number {
  if (untilNextClose === null) return maxIntervalMs;
  return Math.min(maxIntervalMs, untilNextClose + 1);
}
