import type { Logger } from "../core/index.ts";
import type { SaleEngine } from "./engine.ts";

/** Default time between two repairs of the active-drop index, ms. */
export const ACTIVE_REPAIR_MS = 60_000;

export interface ExpirySweeper {
  stop(): Promise<void>;
}

/**
 * Periodically expires due holds on every active drop: the safety net that returns stock even
 * when no other component is watching deadlines. Each sweep also retires drops that ended with
 * nothing pending (see SaleEngine.expireAllDue), so it costs what the live drops cost, not the
 * history. The first sweep repairs the active index (drops created before it existed); then
 * every `repairMs` (default 60000 ms) a check of three counts repairs it only if a drop is
 * missing. Errors (Redis restarting) are logged, not thrown.
 */
export function startExpirySweeper(
  engine: SaleEngine,
  intervalMs: number,
  log: Logger,
  repairMs = ACTIVE_REPAIR_MS,
): ExpirySweeper {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let repairedAt = Number.NEGATIVE_INFINITY;

  const tick = async () => {
    try {
      if (Date.now() - repairedAt >= repairMs) {
        const added = await engine.repairActiveIndex({ ifCounts: repairedAt > Number.NEGATIVE_INFINITY });
        repairedAt = Date.now();
        if (added > 0) log.info({ added }, "active drop index repaired");
      }
      const results = await engine.expireAllDue();
      const count = results.reduce((n, r) => n + r.expired.length, 0);
      if (count > 0) log.info({ expired: count, drops: results.length }, "expired due holds");
    } catch (err) {
      log.warn({ err }, "expiry sweep failed; retrying next interval");
    }
    if (!stopped) timer = setTimeout(schedule, intervalMs);
  };
  const schedule = () => {
    running = tick();
  };
  timer = setTimeout(schedule, intervalMs);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
