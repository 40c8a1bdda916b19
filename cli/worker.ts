import { collectDefaultMetrics, Registry } from "prom-client";
import { config, ValidationError } from "../core/index.ts";
import { openShadowLane, startProbeServer } from "../deploy/index.ts";
import { startOrderPipeline } from "../orders/index.ts";
import { startTelemetry } from "../telemetry/index.ts";
import { openEngine, openStore } from "./connect.ts";
import { untilSignal } from "./until-signal.ts";

/** Each dependency answers within a second, or counts as down. */
async function check(p: Promise<unknown>): Promise<string> {
  return Promise.race([
    p.then(() => "ok"),
    new Promise<string>((resolve) => setTimeout(() => resolve("timeout"), 1_000).unref()),
  ]).catch((err: unknown) => `error: ${(err as Error).message}`);
}

/**
 * `livedrop worker`: runs the order pipeline (relay, workers, hold expiry, reconcilers) until
 * SIGINT/SIGTERM, with /healthz, /readyz and /metrics on WORKER_HOST:WORKER_PORT. On a signal
 * /readyz turns 503 first; the pipeline then stops taking jobs and finishes (or hands back to
 * BullMQ) the ones it holds within LIVEDROP_STOP_GRACE_MS.
 */
export async function runWorker(args: string[]): Promise<number> {
  if (args.length > 0)
    throw new ValidationError(
      `worker takes no arguments (configure it with environment variables); got ${args.join(" ")}`,
    );
  const cfg = config();
  const telemetry = await startTelemetry(cfg, "worker");
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "livedrop_worker_" });
  const engine = await openEngine({ waitForRedis: true });
  const store = await openStore(cfg);
  const pipeline = await startOrderPipeline({ cfg, engine, store, registry });
  // The shadow (load-test) lane's orders have their own queues, tables and pipeline.
  const shadow =
    cfg.LIVEDROP_SHADOW === "on"
      ? await openShadowLane(cfg, engine.connection, { pipeline: true })
      : undefined;
  let draining = false;
  const probes = await startProbeServer({
    host: cfg.WORKER_HOST,
    port: cfg.WORKER_PORT,
    registry,
    ready: async () => {
      const [redis, orderStore] = await Promise.all([check(engine.connection.ping()), check(store.ping())]);
      const checks = { redis, store: orderStore, draining: draining ? "yes" : "no" };
      return { ok: !draining && redis === "ok" && orderStore === "ok", checks };
    },
  });
  process.stdout.write(
    `livedrop worker running (order store: ${store.kind}${shadow ? "; shadow lane too" : ""}; probes ${probes.url}); Ctrl-C stops it\n`,
  );
  return untilSignal(
    async () => {
      draining = true;
      await shadow?.close();
      await pipeline.stop();
      await probes.close();
      await store.close();
      await engine.close();
      // Last: the spans of the jobs finished while draining are exported too.
      await telemetry.shutdown();
    },
    { graceMs: cfg.LIVEDROP_STOP_GRACE_MS },
  );
}
