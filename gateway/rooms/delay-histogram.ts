import { type DelaySource, MAX_REPORTED_DELAY_MS } from "../../protocol/index.ts";

export const DELAY_SOURCES = ["hls", "webrtc"] as const satisfies readonly DelaySource[];

/**
 * Playback delays of a room as counts in fixed buckets, one set per source: memory and the
 * Redis copy stay bounded (at most MAX_REPORTED_DELAY_MS / bucketMs + 1 buckets a source) however
 * many viewers report. A delay of `ms` counts in bucket ceil(ms / bucketMs), and a bucket reads as
 * its upper edge, so a percentile is never below the true one and at most one bucket above it.
 */
export class DelayHistogram {
  private readonly counts: Record<DelaySource, Map<number, number>> = { hls: new Map(), webrtc: new Map() };

  constructor(readonly bucketMs: number) {}

  add(ms: number, source: DelaySource, n = 1): void {
    this.bump(source, this.bucketOf(ms), n);
  }

  remove(ms: number, source: DelaySource): void {
    this.bump(source, this.bucketOf(ms), -1);
  }

  /** Reports counted, of one source or of both. */
  count(source?: DelaySource): number {
    let n = 0;
    for (const s of source ? [source] : DELAY_SOURCES) for (const c of this.counts[s].values()) n += c;
    return n;
  }

  /**
   * The delay at or below which a share `p` (0..1] of the reports lie (nearest rank), ms; 0
   * with no reports.
   */
  percentile(p: number, source?: DelaySource): number {
    const merged = new Map<number, number>();
    for (const s of source ? [source] : DELAY_SOURCES)
      for (const [b, c] of this.counts[s]) merged.set(b, (merged.get(b) ?? 0) + c);
    const total = [...merged.values()].reduce((a, b) => a + b, 0);
    if (total === 0) return 0;
    const rank = Math.max(1, Math.ceil(p * total));
    let seen = 0;
    for (const b of [...merged.keys()].sort((x, y) => x - y)) {
      seen += merged.get(b) ?? 0;
      if (seen >= rank) return Math.min(b * this.bucketMs, MAX_REPORTED_DELAY_MS);
    }
    return 0;
  }

  /**
   * Adds another histogram's counts (another node's share of the room). A node configured with
   * another bucket width counts each of its buckets at that bucket's upper edge.
   */
  merge(other: DelayHistogram): void {
    for (const s of DELAY_SOURCES)
      for (const [b, c] of other.counts[s]) this.bump(s, this.bucketOf(b * other.bucketMs), c);
  }

  /** A compact form for Redis: per source, [bucket, count] pairs. */
  toJSON(): { bucketMs: number; hls: [number, number][]; webrtc: [number, number][] } {
    return { bucketMs: this.bucketMs, hls: [...this.counts.hls], webrtc: [...this.counts.webrtc] };
  }

  /** Reads toJSON()'s form back; undefined for anything malformed (a node of another version). */
  static fromJSON(value: unknown): DelayHistogram | undefined {
    if (typeof value !== "object" || value === null) return undefined;
    const v = value as Record<string, unknown>;
    if (typeof v.bucketMs !== "number" || !Number.isInteger(v.bucketMs) || v.bucketMs < 1) return undefined;
    const h = new DelayHistogram(v.bucketMs);
    const maxBucket = Math.ceil(MAX_REPORTED_DELAY_MS / v.bucketMs);
    for (const s of DELAY_SOURCES) {
      const pairs = v[s];
      if (!Array.isArray(pairs) || pairs.length > maxBucket + 1) return undefined;
      for (const pair of pairs) {
        if (!Array.isArray(pair) || pair.length !== 2) return undefined;
        const [b, c] = pair as unknown[];
        if (!Number.isInteger(b) || !Number.isInteger(c)) return undefined;
        if ((b as number) < 0 || (b as number) > maxBucket || (c as number) < 1) return undefined;
        h.bump(s, b as number, c as number);
      }
    }
    return h;
  }

  private bucketOf(ms: number): number {
    return Math.ceil(Math.min(Math.max(ms, 0), MAX_REPORTED_DELAY_MS) / this.bucketMs);
  }

  private bump(source: DelaySource, bucket: number, n: number): void {
    const next = (this.counts[source].get(bucket) ?? 0) + n;
    if (next > 0) this.counts[source].set(bucket, next);
    else this.counts[source].delete(bucket);
  }
}
