import type { Logger, RedisClient } from "../core/index.ts";
import type { GatewayMetrics } from "./metrics.ts";

/** A number field of an INFO section (`name:value` lines); undefined when absent. */
export function infoField(info: string, name: string): number | undefined {
  const line = info.split("\r\n").find((l) => l.startsWith(`${name}:`)) ?? "";
  const n = Number(line.slice(name.length + 1));
  return line && Number.isFinite(n) ? n : undefined;
}

/**
 * Samples what a promotion's Redis looks like from this gateway: PING round trip and INFO memory
 * (used_memory, maxmemory) into gauges, once at start and every interval. A failed sample counts
 * and leaves the last values (a down Redis shows in readiness and in the failure counter).
 */
export class RedisHealth {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    /** GATEWAY_REDIS_HEALTH_MS. */
    intervalMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    if (this.running) return; // a slow Redis: one sample in flight at a time
    this.running = this.measure()
      .catch((err: unknown) => {
        this.metrics.redisHealthFailures.inc();
        this.log.debug({ err: (err as Error).message }, "redis health sample failed");
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  private async measure(): Promise<void> {
    const started = performance.now();
    await this.redis.ping();
    this.metrics.redisPing.set((performance.now() - started) / 1000);
    // On a cluster client this asks one node; the gateway's own connection is what it waits on.
    const info = await this.redis.info("memory");
    const used = infoField(info, "used_memory");
    const max = infoField(info, "maxmemory");
    if (used !== undefined) this.metrics.redisMemoryUsed.set(used);
    if (max !== undefined) this.metrics.redisMemoryMax.set(max);
  }
}
