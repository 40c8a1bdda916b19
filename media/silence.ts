import type { types } from "./mediasoup.ts";

/**
 * Calls `onSilent` once when `transport` has received no byte (RTP or RTCP) for `timeoutMs`,
 * measured from the transport's own stats. A live browser sends RTCP feedback every second or so
 * even when it only receives; an encoder sends media. Stops when the transport closes.
 */
export function watchSilence(
  transport: types.WebRtcTransport | types.PlainTransport,
  timeoutMs: number,
  onSilent: (silentMs: number) => void,
): void {
  let lastBytes = -1;
  let lastChange = Date.now();
  const timer = setInterval(
    () => {
      transport.getStats().then(
        (stats: { bytesReceived?: number }[]) => {
          const bytes = stats.reduce((n, s) => n + (s.bytesReceived ?? 0), 0);
          if (bytes !== lastBytes) {
            lastBytes = bytes;
            lastChange = Date.now();
          } else if (Date.now() - lastChange >= timeoutMs && !transport.closed) {
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
