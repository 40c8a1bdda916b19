import { config, ValidationError } from "../core/index.ts";
import { openShadowLane } from "../deploy/index.ts";
import { startOrderPipeline } from "../orders/index.ts";
import { openEngine, openStore } from "./connect.ts";
import { untilSignal } from "./until-signal.ts";

/** `livedrop worker`: runs the order pipeline (relay, workers, hold expiry, reconciler) until SIGINT/SIGTERM. */
export async function runWorker(args: string[]): Promise<number> {
  if (args.length > 0)
    throw new ValidationError(
      `worker takes no arguments (configure it with environment variables); got ${args.join(" ")}`,
    );
  const cfg = config();
  const engine = await openEngine({ waitForRedis: true });
  const store = await openStore(cfg);
  const pipeline = await startOrderPipeline({ cfg, engine, store });
  // The shadow (load-test) lane's orders have their own queues, tables and pipeline.
  const shadow =
    cfg.LIVEDROP_SHADOW === "on"
      ? await openShadowLane(cfg, engine.connection, { pipeline: true })
      : undefined;
  process.stdout.write(
    `livedrop worker running (order store: ${store.kind}${shadow ? "; shadow lane too" : ""}); Ctrl-C stops it\n`,
  );
  return untilSignal(
    async () => {
      await shadow?.close();
      await pipeline.stop();
      await store.close();
      await engine.close();
    },
    { graceMs: cfg.LIVEDROP_STOP_GRACE_MS },
  );
}
