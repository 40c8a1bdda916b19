import { describe, expect, it } from "vitest";
import { Recorder } from "../../loadtest/driver/recorder.ts";
import type { K6Config } from "../../loadtest/k6/lib/config-shape.ts";
import { handleSummaryFor, k6Options } from "../../loadtest/k6/lib/summary.ts";
import { GENERATOR_LIMITS, generatorReport } from "../../loadtest/lib/generator.ts";
import { renderHtml, renderText } from "../../loadtest/lib/report.ts";
import { paramsFor, rampHoldStages, targetAt, thresholdsFor } from "../../loadtest/lib/scenarios.ts";
import {
  checkThresholds,
  evaluateThreshold,
  type MetricSummary,
  type RunSummary,
} from "../../loadtest/lib/summary.ts";

const trend = (samples: number[]): MetricSummary => {
  const r = new Recorder();
  for (const v of samples) r.trend("generator_cpu_pct", v);
  return r.summarize(1, {}).generator_cpu_pct as MetricSummary;
};

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

  it("the run's thresholds hold viewers_connected at 99 % of the planned viewers", () => {
    const params = paramsFor("spike", "ci", { viewers: 2_000 });
    expect(thresholdsFor("spike", "ci", params).viewers_connected).toEqual(["count>=1980"]);
    expect(k6Options("spike", paramsFor("spike", "k6")).thresholds.viewers_connected).toEqual([
      "count>=9900",
    ]);
    const r = new Recorder();
    r.count("viewers_connected", 957);
    const results = checkThresholds(thresholdsFor("spike", "ci", params), r.summarize(1, {}));
    expect(results.find((t) => t.metric === "viewers_connected")).toMatchObject({ ok: false, actual: 957 });
    // Nobody got in at all: the counter has no samples and still fails.
    expect(evaluateThreshold("count>=1980", undefined, "counter")).toEqual({ ok: false, actual: 0 });
  });

  it("the generator verdict names each limit crossed and stays quiet under them", () => {
    const busy = generatorReport({
      generator_cpu_pct: trend([20, 97, 98, 99, 99, 99]),
      generator_loop_lag_ms: trend([1, 2, 3]),
    });
    expect(busy.saturated).toBe(true);
    expect(busy.reasons).toEqual([expect.stringMatching(/^load process CPU p95 \d+(\.\d)? % > 90 %$/)]);
    const calm = generatorReport({
      generator_cpu_pct: trend([10, 12]),
      generator_loop_lag_ms: trend([1, 4]),
    });
    expect(calm).toMatchObject({ saturated: false, reasons: [] });
    expect(calm.cpuPct).toBeLessThan(GENERATOR_LIMITS.cpuPct);
    const k6 = generatorReport({ dropped_iterations: { type: "counter", values: { count: 3 } } });
    expect(k6.saturated).toBe(true);
    expect(k6.droppedIterations).toBe(3);
  });

  it("k6's summary of a spike where minting failed for 1,043 of 2,000 viewers: planned and connected on the result line, the run failed", () => {
    const params = paramsFor("spike", "k6", { viewers: 2_000 });
    const cfg: K6Config = {
      baseUrl: "https://staging.example.com",
      wsUrl: "wss://staging.example.com/ws",
      room: "loadtest",
      shadow: true,
      adminToken: "",
      hostToken: "",
      tokensFile: "",
      dropId: "",
      summaryDir: "reports",
      sessionS: 300,
      latePerS: 10,
      tokenBatch: 5_000,
      generatorLimits: GENERATOR_LIMITS,
      params,
    };
    const values: Record<string, MetricSummary> = {
      viewers_connected: { type: "counter", values: { count: 957, rate: 10 } },
      viewer_failures: { type: "counter", values: { count: 1_043, rate: 11 } },
      buy_ack_ms: {
        type: "trend",
        contains: "time",
        values: { count: 957, avg: 40, min: 2, med: 30, max: 300, "p(90)": 90, "p(95)": 120, "p(99)": 200 },
      },
      holds: { type: "counter", values: { count: 957 } },
      units_taken: { type: "counter", values: { count: 957 } },
      generator_loop_lag_ms: {
        type: "trend",
        contains: "time",
        values: { count: 60, avg: 3, min: 0, med: 2, max: 30, "p(90)": 6, "p(95)": 8, "p(99)": 20 },
      },
      generator_iteration_lag_ms: {
        type: "trend",
        contains: "time",
        values: { count: 60, avg: 1, min: 0, med: 1, max: 5, "p(90)": 2, "p(95)": 3, "p(99)": 4 },
      },
    };
    // What k6 hands handleSummary: each metric with its thresholds, evaluated as k6 does.
    const { thresholds } = k6Options("spike", params);
    const metrics: Record<string, unknown> = {};
    for (const [name, m] of Object.entries(values)) {
      const own = thresholds[name];
      metrics[name] = {
        ...m,
        ...(own
          ? {
              thresholds: Object.fromEntries(own.map((e) => [e, { ok: evaluateThreshold(e, m, m.type).ok }])),
            }
          : {}),
      };
    }
    const out = handleSummaryFor(
      "spike",
      cfg,
    )({
      metrics: metrics as never,
      state: { testRunDurationMs: 120_000 },
      setup_data: { startedAt: "2026-01-01T00:00:00.000Z", stock: 1_000 },
    });
    const last = JSON.parse(out.stdout?.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
    expect(last).toMatchObject({
      loadtest: "spike",
      viewers: 2_000,
      viewersPlanned: 2_000,
      viewersConnected: 957,
      generatorSaturated: false,
      generatorLagP95Ms: 8,
      generatorIterationLagP95Ms: 3,
    });
    const summary = JSON.parse(out["reports/spike-summary.json"] ?? "{}") as RunSummary;
    expect(summary.ok).toBe(false);
    expect(summary.thresholds.find((t) => t.metric === "viewers_connected")).toMatchObject({
      expr: "count>=1980",
      ok: false,
      actual: 957,
    });
    expect(summary.generator?.saturated).toBe(false);
    expect(out.stdout).toContain("load generator: not saturated");
  });

  it("summaries say when the generator was saturated, in the text and the HTML report", () => {
    const summary: RunSummary = {
      loadtest: "full-link",
      runner: "node",
      ok: false,
      startedAt: new Date(0).toISOString(),
      durationMs: 1_000,
      target: "http://127.0.0.1:1",
      shadow: false,
      params: {},
      thresholds: [{ metric: "buy_ack_ms", expr: "p(95)<300", ok: false, actual: 900 }],
      metrics: {},
      result: {},
      generator: generatorReport({ generator_loop_lag_ms: trend([300, 400, 500]) }),
    };
    expect(renderText(summary)).toMatch(
      /load generator: SATURATED: event-loop delay p95 .* not the service's/,
    );
    expect(renderHtml(summary)).toContain("<h2>Load generator</h2>");
  });
});
