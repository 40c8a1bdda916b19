import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../loadtest/index.ts";

const root = path.resolve(import.meta.dirname, "../..");
const out = mkdtempSync(path.join(os.tmpdir(), "livedrop-spike-"));

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Runs `npm run loadtest -- …` in its own process group (so a timeout can stop all of it). */
function npmLoadtest(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", "loadtest", "--", ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-20_000);
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, "SIGTERM");
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

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
