import { type Logger, type PeriodicPass, repeatPass } from "../core/index.ts";
import type { SaleEngine } from "./engine.ts";
import { startFairPass } from "./fair-pass.ts";
import { DEFAULTS } from "./schema.ts";

/** Default time between two repairs of the active-drop index, ms. */
export const ACTIVE_REPAIR_MS = 60_000;

export type ExpirySweeper = PeriodicPass;

/**
 * Periodically expires due holds on every active drop: the safety net that returns stock even
 * when no other component is watching deadlines. Each sweep also retires drops that ended with
 * nothing pending (see SaleEngine.expireAllDue), so it costs what the live drops cost, not the
 * history. The first sweep repairs the active index (drops created before it existed); then
 * every `repairMs` (default 60000 ms) a check of three counts repairs it only if a drop is
 * missing. A second, shorter pass (every `fairIntervalMs`, default 100 ms, LIVEDROP_FAIR_PASS_MS
 * in the worker) allocates the fair windows and raffles that have closed; it wakes at the next
 * close too (fair-pass.ts), so entrants get their result within milliseconds of T0 + W. It reads
 * the server clock and the drops of a small index whose close has come, so open windows cost
 * nothing. Errors (Redis restarting) are logged, not thrown.
 */
export function startExpirySweeper(
  engine: SaleEngine,
  intervalMs: number,
  log: Logger,
  repairMs = ACTIVE_REPAIR_MS,
  fairIntervalMs: number = DEFAULTS.fairSweepMs,
): ExpirySweeper {
  let repairedAt = Number.NEGATIVE_INFINITY;
  const fair = startFairPass(engine, fairIntervalMs, log);
  const expiry = repeatPass(
    intervalMs,
    async () => {
      if (Date.now() - repairedAt >= repairMs) {
        const added = await engine.repairActiveIndex({ ifCounts: repairedAt > Number.NEGATIVE_INFINITY });
        repairedAt = Date.now();
        if (added > 0) log.info({ added }, "active drop index repaired");
      }
      const results = await engine.expireAllDue();
      const count = results.reduce((n, r) => n + r.expired.length, 0);
      if (count > 0) log.info({ expired: count, drops: results.length }, "expired due holds");
    },
    (err) => log.warn({ err }, "expiry sweep failed; retrying next interval"),
  );
  return {
    async stop() {
      await Promise.all([fair.stop(), expiry.stop()]);
    },
  };
}
