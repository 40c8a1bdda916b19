import { expect, it } from "vitest";
import { remainsOf } from "../../chaos/index.ts";
import { runEntryPoint } from "../harness/cli.ts";

/** The quick run is meant to end well under 3 minutes; the bound leaves room for a loaded machine. */
const RUN_BOUND_MS = 240_000;

it(
  "the quick chaos run (a master kill, a gateway cut) loses no acknowledged hold, oversells nothing, misses no drop event and leaves nothing behind",
  async () => {
    const { pid, code, last, stderr } = await runEntryPoint("chaos/main.ts", ["--quick"], RUN_BOUND_MS);
    const summary = JSON.parse(last) as Record<string, unknown>;
    expect(summary, stderr).toMatchObject({
      chaos: "passed",
      faults: 2,
      lostAckedHolds: 0,
      duplicateOrders: 0,
      oversold: 0,
      missedDropEvents: 0,
      duplicateCaptures: 0,
      unpaidAckedPayments: 0,
      crashedProcesses: [],
    });
    expect(summary.ackedHolds as number).toBeGreaterThan(0);
    expect(summary.maxUnavailableMs as number).toBeGreaterThan(0);
    // Viewers of the cut gateway came back on the other one and resumed.
    expect((summary.resumes as number) + (summary.resyncs as number)).toBeGreaterThan(0);
    expect(code).toBe(0);
    expect(await remainsOf(pid)).toEqual([]);
  },
  RUN_BOUND_MS + 30_000,
);
