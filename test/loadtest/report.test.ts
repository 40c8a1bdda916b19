import { describe, expect, it } from "vitest";
import { Recorder } from "../../loadtest/driver/recorder.ts";
import { renderHtml } from "../../loadtest/lib/report.ts";
import { rampHoldStages, targetAt, thresholdsFor } from "../../loadtest/lib/scenarios.ts";
import { checkThresholds, evaluateThreshold, type RunSummary } from "../../loadtest/lib/summary.ts";

describe("load-test summaries", () => {
  it("thresholds read like k6's: percentiles, counts, rates; an unused counter counts as 0", () => {
    const trend = { type: "trend" as const, values: { "p(99)": 420, avg: 100 } };
    expect(evaluateThreshold("p(99)<500", trend, "trend")).toEqual({ ok: true, actual: 420 });
    expect(evaluateThreshold("avg >= 200", trend, "trend")).toEqual({ ok: false, actual: 100 });
    expect(evaluateThreshold("count==0", undefined, "counter")).toEqual({ ok: true, actual: 0 });
    expect(evaluateThreshold("p(95)<500", undefined, "trend")).toEqual({ ok: false });
    expect(evaluateThreshold("rate>0.99", { type: "rate", values: { rate: 0.995 } }, "rate").ok).toBe(true);
  });

  it("the recorder's values meet the spike's thresholds the way k6's would", () => {
    const thresholds = thresholdsFor("spike", "ci");
    const r = new Recorder(new Set(Object.keys(thresholds)));
    for (let i = 1; i <= 1_000; i++) r.trend("buy_ack_ms", i, { step: "buy" });
    r.rate("buy_answered", true);
    r.count("oversold", 0);
    const metrics = r.summarize(10, thresholds);
    expect(metrics.buy_ack_ms?.values["p(99)"]).toBeCloseTo(990.01, 1);
    const results = checkThresholds(thresholds, metrics);
    const ack = results.filter((t) => t.metric === "buy_ack_ms");
    expect(ack.length).toBeGreaterThan(0);
    expect(ack.every((t) => t.ok)).toBe(true);
    expect(results.find((t) => t.metric === "oversold")).toMatchObject({ ok: true, actual: 0 });
    expect(results.find((t) => t.metric === "t0_skew_ms")?.ok).toBe(false); // nothing measured
  });

  it("stages ramp like k6's ramping executors", () => {
    const stages = rampHoldStages(1_000, 4, 8);
    expect(targetAt(stages, 0)).toBe(0);
    expect(targetAt(stages, 2)).toBe(500);
    expect(targetAt(stages, 6)).toBe(1_000);
    expect(targetAt(stages, 13)).toBe(0);
  });

  it("the HTML report is one self-contained file with inline SVG charts", () => {
    const summary: RunSummary = {
      loadtest: "spike",
      runner: "node",
      ok: false,
      startedAt: new Date(0).toISOString(),
      durationMs: 12_345,
      target: "http://127.0.0.1:1",
      shadow: true,
      params: { viewers: 10, room: "<room>" },
      thresholds: [{ metric: "buy_ack_ms", expr: "p(99)<500", ok: false, actual: 612 }],
      metrics: {
        buy_ack_ms: {
          type: "trend",
          contains: "time",
          values: { count: 10, avg: 50, min: 1, med: 40, max: 700, "p(90)": 90, "p(95)": 95, "p(99)": 612 },
        },
        oversold: { type: "counter", values: { count: 0, rate: 0 } },
      },
      result: { sold: 10 },
      series: [
        {
          name: "sockets open",
          unit: "sockets",
          points: [
            [0, 0],
            [1, 10],
            [2, 10],
          ],
        },
      ],
    };
    const html = renderHtml(summary);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("FAILED");
    expect(html.match(/<svg /g)?.length).toBe(2);
    expect(html).toContain("&lt;room&gt;");
    for (const external of ["<script", " src=", " href=", "<link", "@import", "url("])
      expect(html).not.toContain(external);
  });
});
