/**
 * NTP-style clock offset from ping/pong, the same math as protocol/clock.ts (k6 cannot import that
 * file's folder; test/loadtest/frames.test.ts checks both give the same answers). The server stamps
 * its time once, so the sample with the lowest round trip is the one to trust.
 */
export interface ClockSample {
  /** Local clock when the ping was sent, ms. */
  readonly clientSend: number;
  /** Server clock in the pong, ms. */
  readonly serverTime: number;
  /** Local clock when the pong arrived, ms. */
  readonly clientReceive: number;
}

export interface ClockEstimate {
  /** Server clock ≈ local clock + offsetMs. */
  readonly offsetMs: number;
  readonly rttMs: number;
}

export function clockOffset(s: ClockSample): ClockEstimate {
  return {
    offsetMs: s.serverTime - (s.clientSend + s.clientReceive) / 2,
    rttMs: s.clientReceive - s.clientSend,
  };
}

/** The lowest-round-trip estimate; undefined without a usable sample (a negative round trip means the clock jumped). */
export function bestOffset(samples: readonly ClockSample[]): ClockEstimate | undefined {
  let best: ClockEstimate | undefined;
  for (const sample of samples) {
    const e = clockOffset(sample);
    if (!Number.isFinite(e.offsetMs) || !Number.isFinite(e.rttMs) || e.rttMs < 0) continue;
    if (!best || e.rttMs < best.rttMs) best = e;
  }
  return best;
}
