// The driver's private stack, run as a child process (`node --import tsx`): embedded Redis, the
// sale engine, the order store and pipeline, the shadow lane and one gateway node, wired from the
// configuration like the launcher wires them, without the media tier, the client build and the
// demo room (they would only take CPU from the load test). Prints `gateway <url>` then `ready`;
// SIGTERM stops everything, Redis last.
import path from "node:path";
import { config, connectRedis, redisTargetFromConfig } from "../../core/index.ts";
import { openShadowLane, RedisServerProcess, startGatewayNode } from "../../deploy/index.ts";
import { openOrderStore, startOrderPipeline } from "../../orders/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";

const stops: (() => Promise<unknown>)[] = [];

async function start(): Promise<void> {
  const cfg = config();
  const server = await RedisServerProcess.start({
    port: cfg.LIVEDROP_REDIS_PORT,
    dir: path.join(cfg.dataDir, "redis"),
    appendfsync: cfg.LIVEDROP_APPENDFSYNC,
  });
  stops.push(() => server.stop());
  const redis = connectRedis(redisTargetFromConfig(cfg));
  redis.on("error", () => undefined);
  stops.push(async () => redis.disconnect());
  const engine = await SaleEngine.create({ redis, prefix: cfg.LIVEDROP_KEY_PREFIX, ackConfig: cfg });
  const store = await openOrderStore(cfg);
  stops.push(() => store.close());
  const pipeline = await startOrderPipeline({ cfg, engine, store });
  stops.push(() => pipeline.stop());
  const shadow =
    cfg.LIVEDROP_SHADOW === "on" ? await openShadowLane(cfg, redis, { pipeline: true }) : undefined;
  if (shadow) stops.push(() => shadow.close());
  const node = await startGatewayNode(cfg, { engine, store, redis, ...(shadow ? { shadow } : {}) });
  stops.push(() => node.close());
  process.stdout.write(`gateway ${node.server.url}\nready\n`);
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const fn of stops.reverse()) await fn().catch(() => undefined);
  process.exit(code);
}

process.once("SIGTERM", () => void stop(0));
process.once("SIGINT", () => void stop(0));
start().catch((err: unknown) => {
  process.stderr.write(`private stack failed: ${err instanceof Error ? err.message : String(err)}\n`);
  void stop(1);
});
