import { config, ValidationError } from "../core/index.ts";
import { startStack } from "../deploy/index.ts";
import { startTelemetry } from "../telemetry/index.ts";
import { untilSignal } from "./until-signal.ts";

/** `livedrop start`: runs the stack until Ctrl-C / SIGTERM, then stops every child cleanly. */
export async function runStart(args: string[]): Promise<number> {
  if (args.length > 0)
    throw new ValidationError(
      `start takes no arguments (configure it with environment variables); got ${args.join(" ")}`,
    );
  const cfg = config();
  const telemetry = await startTelemetry(cfg, "start");
  const stack = await startStack(cfg);
  process.stdout.write(
    `livedrop is running\n${stack.lines.map((l) => `  ${l}`).join("\n")}\nCtrl-C stops everything.\n`,
  );
  return untilSignal(
    async (signal) => {
      process.stdout.write(`\n${signal}: stopping...\n`);
      await stack.stop();
      await telemetry.shutdown();
      process.stdout.write("stopped\n");
    },
    { graceMs: cfg.LIVEDROP_STOP_GRACE_MS, stopping: stack.stopping },
  );
}
