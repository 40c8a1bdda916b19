/**
 * Token buckets per key (client IP, user, connection), kept in this process: each gateway or
 * media node limits what reaches it. Idle buckets are dropped so the map cannot grow without bound.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = Date.now();

  constructor(
    /** Tokens added per second. */
    private readonly ratePerSecond: number,
    /** Bucket size: the burst allowed after a quiet period. */
    private readonly burst: number,
  ) {}

  /** Takes `cost` tokens for `key`; false when the bucket is empty (the caller refuses). */
  take(key: string, cost = 1, now = Date.now()): boolean {
    this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    const full = (this.burst / this.ratePerSecond) * 1000;
    for (const [key, b] of this.buckets) if (now - b.at > full) this.buckets.delete(key);
  }
}
