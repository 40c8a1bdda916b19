import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../loadtest/index.ts";
import { npmLoadtest } from "../harness/npm-loadtest.ts";

const out = mkdtempSync(path.join(os.tmpdir(), "livedrop-spike-"));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("npm run loadtest -- spike", () => {
  it("at CI scale (2,000 viewers, 200 units) passes its thresholds: no oversell, every acknowledged hold has an order", async () => {
    const run = await npmLoadtest(["spike", "--viewers", "2000", "--stock", "200", "--out", out], 540_000);
    const lines = run.stdout.trim().split("\n");
    const last = JSON.parse(lines.at(-1) ?? "{}") as Record<string, unknown>;
    expect(Object.keys(last).slice(0, 9), run.stderr).toEqual([
      "loadtest",
      "viewers",
      "viewersPlanned",
      "viewersConnected",
      "stock",
      "sold",
      "oversold",
      "ackP99Ms",
      "holdsWithoutOrder",
    ]);
    // Then the load generator's verdict and figures.
    expect(typeof last.generatorSaturated, run.stderr).toBe("boolean");
    expect(typeof last.generatorCpuP95Pct).toBe("number");
    expect(typeof last.generatorLagP95Ms).toBe("number");
    expect(last, run.stderr).toMatchObject({
      loadtest: "spike",
      viewers: 2000,
      viewersPlanned: 2000,
      stock: 200,
      sold: 200,
      oversold: 0,
      holdsWithoutOrder: 0,
    });
    expect(last.ackP99Ms).toBeGreaterThan(0);
    expect(last.viewersConnected).toBeGreaterThanOrEqual(1980);

    const summary = JSON.parse(readFileSync(path.join(out, "spike-summary.json"), "utf8")) as RunSummary;
    expect(
      summary.thresholds.filter((t) => !t.ok),
      run.stderr,
    ).toEqual([]);
    expect(summary.metrics.holds?.values.count).toBe(200);
    expect(summary.metrics.buy_ack_ms?.values.count).toBeGreaterThanOrEqual(2000);
    expect(existsSync(path.join(out, "spike-report.html"))).toBe(true);
    expect(run.code, run.stderr).toBe(0);
  }, 600_000);
});
