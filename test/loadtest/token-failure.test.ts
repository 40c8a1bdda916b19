import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runScenario } from "../../loadtest/driver/run.ts";
import { localTokens, type TokenSource } from "../../loadtest/driver/tokens.ts";

const out = mkdtempSync(path.join(os.tmpdir(), "livedrop-lt-tokens-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const PLANNED = 60;
const MINTED = 48;
/** Of the minted ones, this many are signed with a secret the gateway does not know. */
const FORGED = 6;

/**
 * The token source of a real run, cut short the way a refused batch leaves it: only MINTED of the
 * viewers get a token, and FORGED of those are signed with another secret, so the real gateway
 * refuses their sockets. Everything else (the private stack, the sockets, the thresholds) is real.
 */
function shortOfTokens(real: TokenSource): TokenSource {
  return {
    ...real,
    async viewers(count) {
      const good = await real.viewers(Math.min(count, MINTED - FORGED));
      const forged = await (await localTokens("not-the-gateway-secret-0123456789abcdef")).viewers(FORGED);
      return {
        tokens: [...good.tokens, ...forged.tokens],
        error: "shadow tokens refused: HTTP 429 RATE_LIMITED",
      };
    },
  };
}

describe("a run where some viewers cannot get a token or connect", () => {
  it("counts them, reports viewersConnected below planned, and fails its viewers_connected threshold", async () => {
    const report = await runScenario(
      {
        name: "spike",
        shadow: false,
        room: "loadtest",
        overrides: { viewers: PLANNED, stock: 5, leadS: 2, orderWaitMs: 10_000 },
        workers: 1,
        outDir: out,
        quiet: true,
        tokenBatch: 5_000,
      },
      { tokens: shortOfTokens },
    );
    const { summary } = report;
    const connected = MINTED - FORGED;
    // The run's notes say which sockets the server closed or refused, should a count be off.
    const notes = summary.notes?.join("\n") ?? "";
    expect(summary.result, notes).toMatchObject({ viewersPlanned: PLANNED, viewersConnected: connected });
    expect(summary.metrics.viewer_failures?.values.count).toBe(PLANNED - connected);
    expect(summary.metrics["viewer_failures{reason:token}"]?.values.count).toBe(PLANNED - MINTED);
    expect(summary.metrics["viewer_failures{reason:connect}"]?.values.count).toBe(FORGED);
    expect(summary.thresholds.find((t) => t.metric === "viewers_connected")).toMatchObject({
      expr: `count>=${Math.ceil(PLANNED * 0.99)}`,
      ok: false,
      actual: connected,
    });
    expect(summary.ok).toBe(false);
    expect(notes).toContain(`${PLANNED - MINTED} of ${PLANNED} viewer tokens could not be minted`);
    // The last line carries planned and connected viewers, and the generator's verdict.
    const last = JSON.parse(report.lastLine) as Record<string, unknown>;
    expect(last).toMatchObject({ viewers: PLANNED, viewersPlanned: PLANNED, viewersConnected: connected });
    expect(typeof last.generatorSaturated).toBe("boolean");
    expect(typeof last.generatorLagP95Ms).toBe("number");
    expect(summary.generator?.saturated).toBe(last.generatorSaturated);
  }, 300_000);
});
