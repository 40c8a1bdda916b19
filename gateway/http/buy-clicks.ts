import type { Logger, RedisClient } from "../../core/index.ts";
import { buyClicksKey, buyEntriesKey } from "../keys.ts";

/** How often a node adds its local click counts to Redis. */
const FLUSH_MS = 1_000;

/** What one count is of: a buy press, or a buy that became an entry of the drop's draw (new entries only). */
export type BuyCount = "click" | "entry";

/**
 * Buy clicks per drop, the second step of the ops funnel (viewers → buy clicks → holds → paid):
 * every buy request that reaches the sale engine, accepted or refused, from any gateway node; and
 * beside them the entries of a drawn drop (the buys its fair window or raffle took as entries).
 * Counted in memory and added to Redis once a second per node, so the buy path pays no extra
 * round trip. One key per drop, hash-tagged with the drop id like the engine's own keys.
 */
export class BuyClicks {
  private pending = new Map<string, number>();
  private pendingEntries = new Map<string, number>();
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

  count(dropId: string, kind: BuyCount = "click"): void {
    const pending = kind === "entry" ? this.pendingEntries : this.pending;
    pending.set(dropId, (pending.get(dropId) ?? 0) + 1);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0 && this.pendingEntries.size === 0) return;
    const [clicks, entries] = [this.pending, this.pendingEntries];
    this.pending = new Map();
    this.pendingEntries = new Map();
    await Promise.all([
      ...[...clicks].map(([dropId, n]) => this.redis.incrby(this.key(dropId), n)),
      ...[...entries].map(([dropId, n]) => this.redis.incrby(buyEntriesKey(this.prefix, dropId), n)),
    ]);
  }

  /** Clicks per drop over every node (this node's unflushed ones included). */
  async read(dropIds: readonly string[]): Promise<Map<string, number>> {
    return this.readCounts(dropIds, (id) => this.key(id), this.pending);
  }

  /** Draw entries per drop over every node (this node's unflushed ones included). */
  async readEntries(dropIds: readonly string[]): Promise<Map<string, number>> {
    return this.readCounts(dropIds, (id) => buyEntriesKey(this.prefix, id), this.pendingEntries);
  }

  private async readCounts(
    dropIds: readonly string[],
    key: (dropId: string) => string,
    pending: Map<string, number>,
  ): Promise<Map<string, number>> {
    const values = await Promise.all(dropIds.map((id) => this.redis.get(key(id))));
    return new Map(dropIds.map((id, i) => [id, Number(values[i] ?? 0) + (pending.get(id) ?? 0)]));
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
