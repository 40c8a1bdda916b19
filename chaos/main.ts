// `npm run chaos`: the multi-host chaos run (docs/chaos.md). The last line is one JSON object.
import { parseChaosArgs } from "./options.ts";
import { runChaos } from "./run.ts";
import { exitOnSignals } from "./signals.ts";

const log = (line: string) => process.stderr.write(`chaos: ${line}\n`);

exitOnSignals(log);

try {
  const options = parseChaosArgs(process.argv.slice(2));
  const summary = await runChaos(options, log);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = summary.chaos === "passed" ? 0 : 1;
} catch (err) {
  log(`run failed: ${(err as Error).stack ?? err}`);
  process.stdout.write(`${JSON.stringify({ chaos: "error", error: (err as Error).message })}\n`);
  process.exitCode = 2;
}
