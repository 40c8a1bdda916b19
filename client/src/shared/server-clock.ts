import { bestOffset, type ClockSample } from "../../../protocol/index.ts";

/**
 * The server's clock as seen from this browser: countdowns, the buy button at T0 and pay-by
 * deadlines are all judged in server time. Samples come from ping/pong; the lowest round trip
 * wins (protocol/clock.ts). Until the first pong, the welcome frame's serverTime is used.
 */
export class ServerClock {
  private samples: ClockSample[] = [];
  private offset = 0;
  private rtt = Number.NaN;
  private readonly listeners = new Set<() => void>();

  /** Server time now, ms epoch. */
  now(): number {
    return Date.now() + this.offset;
  }

  get offsetMs(): number {
    return this.offset;
  }

  /** Round trip of the best sample, ms (NaN before the first pong). */
  get rttMs(): number {
    return this.rtt;
  }

  /** A rough first estimate from the welcome frame (no round trip known). */
  roughFromWelcome(serverTime: number): void {
    if (this.samples.length === 0) this.offset = serverTime - Date.now();
  }

  add(sample: ClockSample): void {
    // The most recent samples only: a laptop that slept has drifted since the old ones.
    this.samples = [...this.samples.slice(-7), sample];
    const best = bestOffset(this.samples);
    if (!best) return;
    this.offset = best.offsetMs;
    this.rtt = best.rttMs;
    for (const fn of this.listeners) fn();
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
