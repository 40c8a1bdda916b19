import { spawn } from "node:child_process";
import path from "node:path";
import { expect, it } from "vitest";
import { remainsOf } from "../../chaos/index.ts";

const root = path.resolve(import.meta.dirname, "../..");
/** The quick run is meant to end well under 3 minutes; the bound leaves room for a loaded machine. */
const RUN_BOUND_MS = 240_000;

it(
  "the quick chaos run (a master kill, a gateway cut) loses no acknowledged hold, oversells nothing, misses no drop event and leaves nothing behind",
  async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "chaos/main.ts", "--quick"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-8_000);
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), RUN_BOUND_MS);
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    clearTimeout(timer);
    const last = stdout.trim().split("\n").at(-1) ?? "";
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
    expect(await remainsOf(child.pid as number)).toEqual([]);
  },
  RUN_BOUND_MS + 30_000,
);
