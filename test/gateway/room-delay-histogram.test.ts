import { describe, expect, it } from "vitest";
import { DelayHistogram } from "../../gateway/rooms/delay-histogram.ts";
import { DEFAULT_DELAY_SETTINGS, impliedWindowMs, summarize } from "../../gateway/rooms/room-delay.ts";

const settings = {
  ...DEFAULT_DELAY_SETTINGS,
  bucketMs: 50,
  marginMs: 500,
  stepMs: 250,
  defaultWindowMs: 3_500,
};

describe("delay histogram", () => {
  it("a percentile is the nearest-rank report read at its bucket's upper edge", () => {
    const h = new DelayHistogram(50);
    for (let ms = 1; ms <= 100; ms++) h.add(ms * 10, "webrtc");
    // Reports 10, 20, … 1000 ms: rank 50 is 500 (a bucket edge), rank 95 is 950, rank 100 is 1000.
    expect(h.percentile(0.5)).toBe(500);
    expect(h.percentile(0.95)).toBe(950);
    expect(h.percentile(1)).toBe(1_000);
    // 10 ms lies in the bucket (0, 50]: read as 50, never below the true delay.
    expect(h.percentile(0.01)).toBe(50);
    expect(new DelayHistogram(50).percentile(0.95)).toBe(0);
  });

  it("percentiles per source and over both; removing a report undoes it", () => {
    const h = new DelayHistogram(50);
    for (let i = 0; i < 30; i++) h.add(3_000, "hls");
    for (let i = 0; i < 70; i++) h.add(300, "webrtc");
    expect([h.count(), h.count("hls"), h.count("webrtc")]).toEqual([100, 30, 70]);
    expect([h.percentile(0.5), h.percentile(0.95)]).toEqual([300, 3_000]);
    expect([h.percentile(0.95, "hls"), h.percentile(0.95, "webrtc")]).toEqual([3_000, 300]);
    for (let i = 0; i < 30; i++) h.remove(3_000, "hls");
    expect([h.count(), h.percentile(1)]).toEqual([70, 300]);
    expect(h.toJSON()).toEqual({ bucketMs: 50, hls: [], webrtc: [[6, 70]] });
  });

  it("merging adds counts, also across bucket widths (at the other's upper edges)", () => {
    const a = new DelayHistogram(50);
    a.add(120, "webrtc");
    const b = new DelayHistogram(50);
    b.add(2_990, "hls", 3);
    const c = new DelayHistogram(1_000);
    c.add(2_500, "hls");
    a.merge(b);
    a.merge(c);
    expect([a.count(), a.count("hls"), a.percentile(0.5), a.percentile(1)]).toEqual([5, 4, 3_000, 3_000]);
  });

  it("memory is bounded by the buckets, not the reports", () => {
    const h = new DelayHistogram(50);
    for (let i = 0; i < 100_000; i++) h.add(i % 60_001, i % 2 === 0 ? "hls" : "webrtc");
    const { hls, webrtc } = h.toJSON();
    expect(hls.length + webrtc.length).toBeLessThanOrEqual(2 * (60_000 / 50 + 1));
    expect(h.count()).toBe(100_000);
  });

  it("reads its Redis form back and refuses malformed ones", () => {
    const h = new DelayHistogram(50);
    h.add(300, "webrtc", 2);
    h.add(3_000, "hls");
    const back = DelayHistogram.fromJSON(JSON.parse(JSON.stringify(h)));
    expect(back?.toJSON()).toEqual(h.toJSON());
    for (const bad of [
      null,
      "x",
      { bucketMs: 0, hls: [], webrtc: [] },
      { bucketMs: 50, hls: [[1, 0]], webrtc: [] },
      { bucketMs: 50, hls: [[1_202, 1]], webrtc: [] },
      { bucketMs: 50, hls: [[-1, 1]], webrtc: [] },
      { bucketMs: 50, hls: [[1.5, 1]], webrtc: [] },
      { bucketMs: 50, hls: [[1]], webrtc: [] },
      { bucketMs: 50, hls: [] },
    ])
      expect(DelayHistogram.fromJSON(bad), JSON.stringify(bad)).toBeUndefined();
  });
});

describe("implied fair window", () => {
  it("is p95 + margin rounded up to the step, capped at 60 s; the default without reports", () => {
    const h = new DelayHistogram(50);
    expect(impliedWindowMs(h, settings)).toBe(3_500);
    h.add(0, "webrtc");
    expect(impliedWindowMs(h, settings)).toBe(500);
    h.remove(0, "webrtc");
    h.add(2_801, "hls");
    // 2801 counts as 2850; + 500 = 3350, rounded up to 3500.
    expect(impliedWindowMs(h, settings)).toBe(3_500);
    h.remove(2_801, "hls");
    h.add(59_900, "hls");
    expect(impliedWindowMs(h, settings)).toBe(60_000);
    expect(impliedWindowMs(h, { ...settings, marginMs: 0, stepMs: 1 })).toBe(59_900);
  });

  it("the summary names each figure of the route", () => {
    const h = new DelayHistogram(50);
    h.add(3_000, "hls");
    h.add(300, "webrtc");
    expect(summarize("r", h, settings)).toEqual({
      room: "r",
      reports: 2,
      p50Ms: 300,
      p90Ms: 3_000,
      p95Ms: 3_000,
      maxMs: 3_000,
      bySource: { hls: { count: 1, p95Ms: 3_000 }, webrtc: { count: 1, p95Ms: 300 } },
      impliedWindowMs: 3_500,
    });
  });
});
