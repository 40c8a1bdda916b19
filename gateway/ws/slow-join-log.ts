import type { Logger } from "../../core/index.ts";

/** A join answered later than this is logged, with the time spent subscribing and in the batch. */
const SLOW_JOIN_MS = 2_000;
const SLOW_JOIN_LOG_EVERY_MS = 5_000;

/**
 * A join is a viewer staring at a spinner: a slow one is worth a line, with where it waited (at
 * most one line per SLOW_JOIN_LOG_EVERY_MS, counting the others, so a storm is no flood).
 */
export class SlowJoinLog {
  private count = 0;
  private loggedAt = 0;

  constructor(private readonly log: Logger) {}

  note(room: string, startedAt: number, subscribedAt: number, now = Date.now()): void {
    const totalMs = now - startedAt;
    if (totalMs < SLOW_JOIN_MS) return;
    this.count++;
    if (now - this.loggedAt < SLOW_JOIN_LOG_EVERY_MS) return;
    this.log.warn(
      {
        room,
        totalMs,
        subscribeMs: subscribedAt - startedAt,
        servedAfterMs: now - subscribedAt,
        slowJoinsSinceLastLine: this.count,
      },
      "slow join",
    );
    this.count = 0;
    this.loggedAt = now;
  }
}
