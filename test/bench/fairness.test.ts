import { expect, it } from "vitest";
import { runEntryPoint } from "../harness/cli.ts";

/** The quick run takes about 30 s on an idle 2-core machine; the bound leaves room for a loaded one. */
const RUN_BOUND_MS = 240_000;

it(
  "bench fairness --quick: first come gives HLS viewers almost no units, the fair window gives them a share, every entrant hears its result and the draw verifies",
  async () => {
    const { code, last, stderr } = await runEntryPoint(
      "cli/main.ts",
      ["bench", "fairness", "--quick", "--stock", "100"],
      RUN_BOUND_MS,
    );
    // A run that died before its line says why on stderr.
    expect(last.startsWith("{"), `exit ${code}, no JSON line: ${stderr}`).toBe(true);
    const summary = JSON.parse(last) as Record<string, unknown>;
    expect(summary, stderr).toMatchObject({
      bench: "fairness",
      viewers: 300,
      hlsShareOfViewers: 0.3,
      hlsShareOfWinnersFcfs: expect.any(Number),
      hlsShareOfWinnersFair: expect.any(Number),
      windowMs: expect.any(Number),
      entries: expect.any(Number),
      resultsWithinMs: expect.any(Number),
      allResultsOnTime: expect.any(Boolean),
      verified: true,
      withinTarget: expect.any(Boolean),
      stock: 100,
      winnersFcfs: 100,
      winnersFair: 100,
      oversold: 0,
    });
    // "auto" sized the window from the reported delays: it covers the HLS viewers' 3 s.
    expect(summary.windowMs as number, stderr).toBeGreaterThan(3_000);
    // Every entrant was told its result (when is the run's own figure, not asserted here).
    expect(summary.entries as number, stderr).toBeGreaterThan(100);
    expect(summary.results, stderr).toBe(summary.entries);
    // First come: the WebRTC viewers buy 2.3 s or more before any HLS viewer sees the drop.
    expect(summary.hlsShareOfWinnersFcfs as number, stderr).toBeLessThanOrEqual(0.1);
    // The draw picks 100 of 300 entries at random, 90 of them HLS (30 expected): fewer than 10
    // HLS winners has a probability under one in a million (hypergeometric), whatever the seed.
    expect(summary.hlsShareOfWinnersFair as number, stderr).toBeGreaterThanOrEqual(0.1);
    expect(code, stderr).toBe(0);
  },
  RUN_BOUND_MS + 30_000,
);
