import { type Logger, type PeriodicPass, type RedisClient, repeatPass } from "../../core/index.ts";
import { roomKeys } from "../keys.ts";
import { roomsWithLog } from "./chat-privacy.ts";

const DAY_MS = 86_400_000;

export interface RoomRetentionOptions {
  readonly redis: RedisClient;
  /** The lane's key prefix (room logs). */
  readonly keyPrefix: string;
  /** Entries older than this many days are trimmed (GATEWAY_ROOM_LOG_RETENTION_DAYS). */
  readonly retentionDays: number;
  /** Seconds between passes (GATEWAY_ROOM_LOG_TRIM_INTERVAL_S). */
  readonly intervalS: number;
  readonly log: Logger;
}

/**
 * Keeps every room log of a lane within its retention: entries older than `retentionDays` go
 * (XTRIM MINID, exact), chat messages among them, beside the length cap each append applies. A
 * room log's entry ids are their append times, so the cut is an id. Each gateway node runs it;
 * a trim is idempotent, so nodes passing over the same logs agree. Clients resuming from a trimmed
 * offset get a resync, as after the length cap.
 */
export class RoomRetention {
  private pass: PeriodicPass | undefined;

  constructor(private readonly o: RoomRetentionOptions) {}

  /** Runs a pass every interval until stopped. */
  start(): this {
    this.pass ??= repeatPass(
      this.o.intervalS * 1000,
      async () => {
        await this.trim();
      },
      (err) => this.o.log.warn({ err: err.message }, "room log retention pass failed"),
    );
    return this;
  }

  /** Trims every room log once; returns the entries removed. */
  async trim(now = Date.now()): Promise<number> {
    const cut = `${Math.max(0, now - this.o.retentionDays * DAY_MS)}-0`;
    let removed = 0;
    for (const room of await roomsWithLog(this.o.redis, this.o.keyPrefix))
      removed += Number(await this.o.redis.xtrim(roomKeys(this.o.keyPrefix, room).log, "MINID", cut));
    return removed;
  }

  async stop(): Promise<void> {
    await this.pass?.stop();
  }
}
