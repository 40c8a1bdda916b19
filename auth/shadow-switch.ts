import type { Logger, RedisClient } from "../core/index.ts";

/** How often each node re-reads the switch: a flip reaches every node within this, ms. */
export const SHADOW_SWITCH_REFRESH_MS = 1_000;

/**
 * The shadow-traffic kill switch, shared by every gateway node through one Redis key
 * (`<prefix>:shadow:switch`, absent = on). The node that flips it obeys at once; the others
 * within SHADOW_SWITCH_REFRESH_MS. Reads are local (a cached value), so checking it on every
 * frame costs nothing.
 */
export class ShadowSwitch {
  private on = true;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.refresh(), SHADOW_SWITCH_REFRESH_MS);
    this.timer.unref();
  }

  static async create(redis: RedisClient, keyPrefix: string, log: Logger): Promise<ShadowSwitch> {
    const s = new ShadowSwitch(redis, `${keyPrefix}:shadow:switch`, log);
    await s.refresh();
    return s;
  }

  enabled(): boolean {
    return this.on;
  }

  async set(enabled: boolean): Promise<void> {
    await this.redis.set(this.key, enabled ? "on" : "off");
    this.on = enabled;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    try {
      this.on = (await this.redis.get(this.key)) !== "off";
    } catch (err) {
      // Redis unreachable: keep the last known state (shadow buys fail on Redis anyway).
      this.log.debug({ err: (err as Error).message }, "shadow switch refresh failed");
    }
  }
}
