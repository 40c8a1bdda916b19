import type { types } from "./mediasoup.ts";

/**
 * Calls `onSilent` once when `transport` has received no byte (RTP or RTCP) for `timeoutMs`,
 * measured from the transport's own stats. A live browser sends RTCP feedback every second or so
 * even when it only receives; an encoder sends media. Until the first byte arrives the allowance
 * is `firstByteMs` (an encoder on a busy machine can take seconds to start). Stops when the
 * transport closes.
 */
export function watchSilence(
  transport: types.WebRtcTransport | types.PlainTransport,
  timeoutMs: number,
  onSilent: (silentMs: number) => void,
  firstByteMs = timeoutMs,
): void {
  let lastBytes = 0;
  let lastChange = Date.now();
  const timer = setInterval(
    () => {
      transport.getStats().then(
        (stats: { bytesReceived?: number }[]) => {
          const bytes = stats.reduce((n, s) => n + (s.bytesReceived ?? 0), 0);
          const allowance = lastBytes === 0 ? Math.max(timeoutMs, firstByteMs) : timeoutMs;
          if (bytes !== lastBytes) {
            lastBytes = bytes;
            lastChange = Date.now();
          } else if (Date.now() - lastChange >= allowance && !transport.closed) {
            clearInterval(timer);
            onSilent(Date.now() - lastChange);
          }
        },
        () => undefined,
      );
    },
    Math.max(250, Math.floor(timeoutMs / 5)),
  );
  timer.unref();
  transport.observer.once("close", () => clearInterval(timer));
}
