/**
 * NTP-style clock sync from ping/pong. The server stamps its time once, so the estimate assumes it
 * did so halfway through the round trip; the error is at most half the round trip, which is why
 * the sample with the lowest round trip is the one to trust.
 */
export interface ClockSample {
  /** Client clock when the ping was sent, ms. */
  readonly clientSend: number;
  /** Server clock in the pong, ms. */
  readonly serverTime: number;
  /** Client clock when the pong arrived, ms. */
  readonly clientReceive: number;
}

export interface ClockEstimate {
  /** Server clock ≈ client clock + offsetMs. */
  readonly offsetMs: number;
  readonly rttMs: number;
}

export function clockOffset(sample: ClockSample): ClockEstimate {
  const { clientSend, serverTime, clientReceive } = sample;
  return { offsetMs: serverTime - (clientSend + clientReceive) / 2, rttMs: clientReceive - clientSend };
}

/**
 * The estimate from the lowest-round-trip sample; undefined when there is no usable sample (a
 * negative round trip means the client clock jumped between send and receive).
 */
export function bestOffset(samples: readonly ClockSample[]): ClockEstimate | undefined {
  let best: ClockEstimate | undefined;
  for (const sample of samples) {
    const estimate = clockOffset(sample);
    if (!Number.isFinite(estimate.offsetMs) || !Number.isFinite(estimate.rttMs) || estimate.rttMs < 0)
      continue;
    if (!best || estimate.rttMs < best.rttMs) best = estimate;
  }
  return best;
}
