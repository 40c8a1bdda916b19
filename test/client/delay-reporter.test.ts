import { describe, expect, it } from "vitest";
import { DELAY_REPORTING, DelayReporter } from "../../client/src/media/delay-reporter.ts";
import { type ClientFrame, clientFrameSchema } from "../../protocol/index.ts";

function reporter(open = () => true) {
  let now = 1_000_000;
  const sent: ClientFrame[] = [];
  const r = new DelayReporter({
    room: "room-1",
    send: (f) => {
      if (!open()) return false;
      sent.push(clientFrameSchema.parse(f));
      return true;
    },
    now: () => now,
  });
  return { r, sent, advance: (ms: number) => (now += ms) };
}

describe("delay reporter", () => {
  it("sends the first sample, then every interval, and at once on a change over the threshold", () => {
    const { r, sent, advance } = reporter();
    expect(r.observe(3_012.6, "hls")).toBe(true);
    expect(sent).toEqual([{ t: "delay", room: "room-1", ms: 3_013, source: "hls" }]);
    // Once a second, drifting less than the threshold: nothing until the interval is up.
    for (let i = 1; i < DELAY_REPORTING.intervalMs / 1_000; i++) {
      advance(1_000);
      expect(r.observe(3_013 + i * 10, "hls")).toBe(false);
    }
    advance(1_000);
    expect(r.observe(3_100, "hls")).toBe(true);
    advance(1_000);
    expect(r.observe(3_100 + DELAY_REPORTING.changeMs, "hls")).toBe(true);
    // Switching to WebRTC reports at once.
    advance(10);
    expect(r.observe(3_350, "webrtc")).toBe(true);
    expect(sent.map((f) => (f.t === "delay" ? [f.ms, f.source] : []))).toEqual([
      [3_013, "hls"],
      [3_100, "hls"],
      [3_350, "hls"],
      [3_350, "webrtc"],
    ]);
  });

  it("keeps every frame within the protocol's bounds", () => {
    const { r, sent, advance } = reporter();
    for (const ms of [-40, 120_000, Number.NaN, Number.POSITIVE_INFINITY]) {
      advance(DELAY_REPORTING.intervalMs);
      r.observe(ms, "webrtc");
    }
    expect(sent.map((f) => (f.t === "delay" ? f.ms : -1))).toEqual([0, 60_000]);
  });

  it("a sample the socket could not take is sent with the next one; reset sends the next at once", () => {
    let open = false;
    const { r, sent, advance } = reporter(() => open);
    expect(r.observe(300, "webrtc")).toBe(false);
    open = true;
    advance(1_000);
    expect(r.observe(310, "webrtc")).toBe(true);
    advance(1_000);
    expect(r.observe(320, "webrtc")).toBe(false);
    r.reset();
    expect(r.observe(320, "webrtc")).toBe(true);
    expect(sent).toHaveLength(2);
  });
});
