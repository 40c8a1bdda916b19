import { randomUUID } from "node:crypto";
import { luaCommands, type RedisClient } from "../../core/index.ts";

const register = luaCommands(new URL("../lua/", import.meta.url), {
  ldLeaseHold: { file: "lease-hold", keys: 1 },
  ldLeaseRelease: { file: "lease-release", keys: 1 },
});

/**
 * A Redis lease one node of many holds at a time (value: the holder's id). The holder renews it
 * well within its life; a holder that dies loses it when it expires, and another takes it. Two
 * holders overlap only when a stalled holder acts before noticing it lost the lease, so what a
 * holder does must be safe to do twice (the room log deduplicates drop events).
 */
export class Lease {
  readonly holderId = randomUUID();
  private readonly cmd: ReturnType<typeof register>;

  constructor(
    redis: RedisClient,
    private readonly key: string,
    /** Life of the lease, ms. */
    private readonly lifeMs: number,
  ) {
    this.cmd = register(redis);
  }

  /** Takes or renews the lease (one script call); false while another node holds it. */
  async hold(): Promise<boolean> {
    return Number(await this.cmd.ldLeaseHold(this.key, this.holderId, this.lifeMs)) === 1;
  }

  /** Gives the lease up (a clean shutdown), so another node takes it at its next try. */
  async release(): Promise<void> {
    await this.cmd.ldLeaseRelease(this.key, this.holderId);
  }
}
