import type { Logger } from "../core/index.ts";
import type { SaleEngine } from "./engine.ts";

export interface ExpirySweeper {
  stop(): Promise<void>;
}

/**
 * Periodically expires due holds on every drop: the safety net that returns stock even when
 * no other component is watching deadlines. Errors (Redis restarting) are logged, not thrown.
 */
export function startExpirySweeper(engine: SaleEngine, intervalMs: number, log: Logger): ExpirySweeper {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = async () => {
    try {
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
