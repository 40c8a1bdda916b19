import { type ClientFrame, type DelaySource, MAX_REPORTED_DELAY_MS } from "../../../protocol/index.ts";

/** When a viewer tells the gateway its playback delay (the room's distribution sets a drop's fair window). */
export const DELAY_REPORTING = {
  /** A report at least this often while playing, ms (a reconnected socket is counted again within it). */
  intervalMs: 5_000,
  /** …and at once when the delay moved by this much since the last report, ms. */
  changeMs: 250,
} as const;

export interface DelayReporterOptions {
  readonly room: string;
  /** Sends a frame now; false when the socket is not open (the report is then tried again). */
  readonly send: (frame: ClientFrame) => boolean;
  readonly now?: () => number;
  readonly intervalMs?: number;
  readonly changeMs?: number;
}

/**
 * Turns the player's delay samples (HLS: server-clock now minus the program-date-time of the
 * frame on screen; WebRTC: jitter buffer plus half the round trip, see the viewers) into
 * `delay` frames: the first sample, then every interval, and sooner when the delay or the way
 * of watching changed. Samples in between cost nothing on the wire.
 */
export class DelayReporter {
  private last: { ms: number; source: DelaySource; at: number } | undefined;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly changeMs: number;

  constructor(private readonly o: DelayReporterOptions) {
    this.now = o.now ?? (() => Date.now());
    this.intervalMs = o.intervalMs ?? DELAY_REPORTING.intervalMs;
    this.changeMs = o.changeMs ?? DELAY_REPORTING.changeMs;
  }

  /** One sample of the playback delay, ms; returns whether it was sent. */
  observe = (delayMs: number, source: DelaySource): boolean => {
    if (!Number.isFinite(delayMs)) return false;
    // A clock estimate can put the frame slightly in the future: that is no delay.
    const ms = Math.min(Math.max(Math.round(delayMs), 0), MAX_REPORTED_DELAY_MS);
    const at = this.now();
    const l = this.last;
    const due =
      !l || l.source !== source || Math.abs(ms - l.ms) >= this.changeMs || at - l.at >= this.intervalMs;
    if (!due) return false;
    if (!this.o.send({ t: "delay", room: this.o.room, ms, source })) return false;
    this.last = { ms, source, at };
    return true;
  };

  /** Forgets the last report (a new socket): the next sample is sent. */
  reset(): void {
    this.last = undefined;
  }
}
