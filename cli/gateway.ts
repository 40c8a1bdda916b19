import { config, ValidationError } from "../core/index.ts";
import { refuseTakenPort, startGatewayNode } from "../deploy/index.ts";
import { startTelemetry } from "../telemetry/index.ts";
import { openEngine, openStore } from "./connect.ts";
import { untilSignal } from "./until-signal.ts";

/**
 * `livedrop gateway`: one gateway node (HTTP API + WebSocket) on GATEWAY_HOST:GATEWAY_PORT, for
 * running several behind a load balancer. They share Redis, PostgreSQL (DATABASE_URL) and
 * GATEWAY_TOKEN_SECRET; the order pipeline runs separately (`livedrop worker`).
 */
export async function runGateway(args: string[]): Promise<number> {
  if (args.length > 0) {
    throw new ValidationError(
      `gateway takes no arguments (configure it with environment variables); got ${args.join(" ")}`,
    );
  }
  const cfg = config();
  // Before opening anything: a taken port is a fast, clear failure (the listen is exclusive too).
  if (!cfg.GATEWAY_REUSE_PORT) await refuseTakenPort(cfg.GATEWAY_PORT, cfg.GATEWAY_HOST, "GATEWAY_PORT");
  const telemetry = await startTelemetry(cfg, "gateway");
  const engine = await openEngine({ waitForRedis: true });
  const store = await openStore(cfg).catch(async (err: unknown) => {
    await engine.close();
    throw err;
  });
  const node = await startGatewayNode(cfg, { engine, store, redis: engine.connection }).catch(
    async (err: unknown) => {
      await store.close();
      await engine.close();
      throw err;
    },
  );
  process.stdout.write(
    `livedrop gateway on ${node.server.url} (WebSocket ${node.server.url.replace(/^http/, "ws")}/ws)\n`,
  );
  return untilSignal(
    async () => {
      await node.close();
      await store.close();
      await engine.close();
      // Last: the spans of the drain are exported too.
      await telemetry.shutdown();
    },
    { graceMs: cfg.LIVEDROP_STOP_GRACE_MS },
  );
}
