import type { Session, Sink } from "./session.ts";

/**
 * Whether a planned viewer got in: a token, a connection, the room joined. A viewer that fails
 * any step is counted with its reason (`viewer_failures{reason}`), never left to an exception;
 * the ones that got in count in `viewers_connected`, which the run's threshold holds against the
 * planned viewers (scenarios.ts, MIN_VIEWERS_CONNECTED).
 */

export const ENTRY_FAILURES = ["token", "connect", "join"] as const;
export type EntryFailure = (typeof ENTRY_FAILURES)[number];

/** The per-reason sub-metrics, for runners that keep sub-metrics only when asked. */
export const ENTRY_FAILURE_KEYS = ENTRY_FAILURES.map((r) => `viewer_failures{reason:${r}}`);

/**
 * Calls `cb` once: with nothing when the session has joined `room`, with the failed step when
 * it closed first (no welcome: the connection was refused or failed; welcome: the join was).
 * A session the runner ended itself before it got in (the run or a ramp ending) is neither.
 */
export function onEntry(s: Session, room: string, cb: (failure?: EntryFailure) => void): void {
  let settled = false;
  const settle = (failure?: EntryFailure) => {
    if (settled) return;
    settled = true;
    cb(failure);
  };
  s.on("joined", (j) => {
    if (j.room === room) settle();
  });
  s.onClose(() => {
    if (s.endedOnPurpose) settled = true;
    else settle(s.isWelcomed ? "join" : "connect");
  });
}

/**
 * Records one attempt. `counts` says whether a success adds to `viewers_connected`: false for
 * arrivals outside the planned crowd (late buyers, shoppers) and for a k6 VU already counted.
 */
export function recordEntry(sink: Sink, failure: EntryFailure | undefined, counts: boolean): void {
  if (failure) sink.count("viewer_failures", 1, { reason: failure });
  else if (counts) sink.count("viewers_connected", 1);
}
