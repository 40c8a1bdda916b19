import { randomUUID } from "node:crypto";
import { type Logger, type PeriodicPass, type RedisClient, repeatPass } from "../../core/index.ts";
import type { NewAuditEntry } from "./audit-log.ts";
import type { OrderStore } from "./order-store.ts";

/** Stream: audit rows handed over by CLI commands that could not open the order store. */
export function auditInboxKey(prefix: string): string {
  return `${prefix}:audit:inbox`;
}

/** String (PX): the node draining the inbox now, so two nodes do not write one row twice. */
function drainLockKey(prefix: string): string {
  return `${prefix}:audit:inbox:lock`;
}

/** Rows one drain call moves at most; the rest wait for the next pass. */
const DRAIN_BATCH = 200;

/**
 * Hands an audit row to the running stack: a CLI command whose embedded order store is held by
 * `npm start` (PGlite is one process's) cannot write the row itself. `at` keeps the time of the
 * action, not of the drain.
 */
export async function postToAuditInbox(
  redis: RedisClient,
  prefix: string,
  entry: NewAuditEntry,
): Promise<void> {
  await redis.xadd(
    auditInboxKey(prefix),
    "*",
    "row",
    JSON.stringify({ ...entry, at: entry.at ?? Date.now() }),
  );
}

export interface AuditInboxOptions {
  readonly redis: RedisClient;
  /** The live lane's key prefix (the CLI's LIVEDROP_KEY_PREFIX). */
  readonly keyPrefix: string;
  readonly store: OrderStore;
  /** Milliseconds between drains (GATEWAY_AUDIT_INBOX_DRAIN_MS). */
  readonly intervalMs: number;
  readonly log: Logger;
}

/**
 * Moves the rows of the audit inbox into the lane's audit log, oldest first. One node at a time
 * drains (a lock as long as a few passes); a row is deleted from the inbox once written, so a
 * crash between the two writes it again on the next pass (at least once, never lost).
 */
export class AuditInbox {
  private pass: PeriodicPass | undefined;
  private readonly node = randomUUID();

  constructor(private readonly o: AuditInboxOptions) {}

  start(): this {
    this.pass ??= repeatPass(
      this.o.intervalMs,
      async () => {
        await this.drain();
      },
      (err) => this.o.log.warn({ err: err.message }, "audit inbox drain failed"),
    );
    return this;
  }

  /** Writes what the inbox holds (up to a batch); returns the rows moved. */
  async drain(): Promise<number> {
    const { redis, keyPrefix } = this.o;
    const lock = drainLockKey(keyPrefix);
    const got = await redis.set(lock, this.node, "PX", Math.max(1_000, this.o.intervalMs * 5), "NX");
    if (got !== "OK") {
      if ((await redis.get(lock)) !== this.node) return 0;
      await redis.pexpire(lock, Math.max(1_000, this.o.intervalMs * 5));
    }
    const entries = await redis.xrange(auditInboxKey(keyPrefix), "-", "+", "COUNT", DRAIN_BATCH);
    let moved = 0;
    for (const [id, fields] of entries) {
      try {
        await this.o.store.appendAudit(JSON.parse(fields[1] ?? "null") as NewAuditEntry);
        moved += 1;
      } catch (err) {
        // A row the store refuses (malformed) would block the inbox for ever: it is logged and dropped.
        if (!(err instanceof SyntaxError) && (err as { code?: string }).code !== "INVALID_INPUT") throw err;
        this.o.log.warn({ err: (err as Error).message, entry: id }, "audit inbox row refused; dropped");
      }
      await redis.xdel(auditInboxKey(keyPrefix), id);
    }
    return moved;
  }

  async stop(): Promise<void> {
    await this.pass?.stop();
  }
}
