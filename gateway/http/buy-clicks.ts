import type { Logger, RedisClient } from "../../core/index.ts";
import { buyClicksKey } from "../keys.ts";

/** How often a node adds its local click counts to Redis. */
const FLUSH_MS = 1_000;

/**
 * Buy clicks per drop, the second step of the ops funnel (viewers → buy clicks → holds → paid):
 * every buy request that reaches the sale engine, accepted or refused, from any gateway node.
 * Counted in memory and added to Redis once a second per node, so the buy path pays no extra
 * round trip. One key per drop, hash-tagged with the drop id like the engine's own keys.
 */
export class BuyClicks {
  private pending = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    log: Logger,
  ) {
    this.timer = setInterval(() => {
      this.flush().catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, "buy click flush failed"),
      );
    }, FLUSH_MS);
    this.timer.unref();
  }

  private key(dropId: string): string {
    return buyClicksKey(this.prefix, dropId);
  }

  count(dropId: string): void {
    this.pending.set(dropId, (this.pending.get(dropId) ?? 0) + 1);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    await Promise.all([...batch].map(([dropId, n]) => this.redis.incrby(this.key(dropId), n)));
  }

  /** Clicks per drop over every node (this node's unflushed ones included). */
  async read(dropIds: readonly string[]): Promise<Map<string, number>> {
    const values = await Promise.all(dropIds.map((id) => this.redis.get(this.key(id))));
    return new Map(dropIds.map((id, i) => [id, Number(values[i] ?? 0) + (this.pending.get(id) ?? 0)]));
  }

  /** Stops the timer and writes what is left; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    // Bounded: a Redis that is already gone must not hold up a shutdown.
    await Promise.race([
      this.flush().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
    ]);
  }
}
