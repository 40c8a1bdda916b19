import path from "node:path";
import {
  type Config,
  childLogger,
  connectRedis,
  describeTarget,
  ErrorCode,
  type RedisClient,
  redisTargetFromConfig,
  SetupError,
} from "../core/index.ts";
import { startMediaNode } from "../media/index.ts";
import { describeStore, openOrderStore, startOrderPipeline } from "../orders/index.ts";
import { SaleEngine } from "../sale-engine/index.ts";
import { demoRoom, prepareClient } from "./client-demo.ts";
import { startGatewayNode } from "./gateway-node.ts";
import { isPortFree } from "./ports.ts";
import { RedisServerProcess } from "./redis-server.ts";
import { openShadowLane } from "./shadow-lane.ts";

export interface RunningStack {
  /** One line per component: what runs where. */
  readonly lines: readonly string[];
  /** Stops every component, children last; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The local launcher behind `npm start`: an embedded redis-server (unless REDIS_URL or
 * REDIS_CLUSTER_NODES point elsewhere), the sale engine and its expiry sweep, the order store
 * (PGlite unless DATABASE_URL), the order pipeline and the gateway. Later tiers (media,
 * client) join here.
 */
export async function startStack(cfg: Config): Promise<RunningStack> {
  const log = childLogger("launcher");
  const target = redisTargetFromConfig(cfg);
  const lines: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Each step gets a bounded time: a component stuck on a dead dependency (say, a queue worker
    // waiting for a Redis that is already gone) must not keep the launcher from exiting.
    for (const fn of stops.reverse())
      await withinStopBudget(fn()).catch((err: unknown) => log.warn({ err }, "stop step failed"));
  };

  try {
    if (target.embedded) {
      const dir = path.join(cfg.dataDir, "redis");
      if (!(await isPortFree(cfg.LIVEDROP_REDIS_PORT))) {
        throw new SetupError(
          ErrorCode.CONFIG_INVALID,
          `port ${cfg.LIVEDROP_REDIS_PORT} is in use (another \`npm start\`?): stop it, or set LIVEDROP_REDIS_PORT, or point REDIS_URL at a running server`,
        );
      }
      const server = await RedisServerProcess.start({
        port: cfg.LIVEDROP_REDIS_PORT,
        dir,
        appendfsync: cfg.LIVEDROP_APPENDFSYNC,
        ownProcessGroup: true,
      });
      stops.push(() => server.stop());
      lines.push(
        `redis        ${server.url}  embedded, AOF appendfsync ${cfg.LIVEDROP_APPENDFSYNC}, data ${dir}`,
      );
    }

    const redis = connectRedis(target);
    redis.on("error", (err) => log.warn({ err: err.message }, "redis connection error"));
    stops.push(async () => redis.disconnect());
    if (!target.embedded) {
      await redis.ping();
      lines.push(`redis        ${describeTarget(target)}  external${await fsyncNote(redis, cfg)}`);
    }

    const engine = await SaleEngine.create({ redis, prefix: cfg.LIVEDROP_KEY_PREFIX });
    const drops = await engine.listDrops();
    lines.push(`sale engine  key prefix "${cfg.LIVEDROP_KEY_PREFIX}", ${drops.length} drop(s) on record`);

    const store = await openOrderStore(cfg);
    stops.push(() => store.close());
    const pipeline = await startOrderPipeline({ cfg, engine, store });
    stops.push(() => pipeline.stop());
    lines.push(
      `orders       ${describeStore(cfg)}, ${await store.count()} order(s); relay, workers, hold expiry and reconciler running`,
    );
    const shadow =
      cfg.LIVEDROP_SHADOW === "on" ? await openShadowLane(cfg, redis, { pipeline: true }) : undefined;
    if (shadow) {
      stops.push(() => shadow.close());
      lines.push(
        `shadow       load-test lane on: keys "${shadow.keyPrefix}", own queues and order tables, sandbox payments only (LIVEDROP_SHADOW=off turns it off)`,
      );
    }
    const node = await startGatewayNode(cfg, { engine, store, redis, ...(shadow ? { shadow } : {}) });
    const gateway = node.server;
    stops.push(() => node.close());
    lines.push(
      `gateway      ${gateway.url}  WebSocket /ws, JSON API /api/v1, health /healthz, readiness /readyz, metrics /metrics`,
    );
    lines.push(`client       ${await prepareClient(log)}, served by the gateway`);
    lines.push(...(await demoRoom(cfg, engine, gateway.url)));
    // The media tier and the test-pattern demo room; a media failure leaves the rest running.
    const media = await startMediaNode(cfg, { demoRoom: "demo" });
    stops.push(() => media.stop());
    lines.push(...media.lines);
    lines.push("cli          npx livedrop drop help | npx livedrop orders help");
  } catch (err) {
    await stop();
    throw err;
  }
  return { lines, stop };
}

/** Longest one stop step may take before the launcher moves on, ms. */
const STOP_STEP_BUDGET_MS = 10_000;

function withinStopBudget(step: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`gave up after ${STOP_STEP_BUDGET_MS} ms`)),
      STOP_STEP_BUDGET_MS,
    );
  });
  return Promise.race([step, budget]).finally(() => clearTimeout(timer));
}

/** The durability an external Redis really runs with, when it lets us ask. */
async function fsyncNote(redis: RedisClient, cfg: Config): Promise<string> {
  try {
    const reply = (await redis.config("GET", "appendfsync")) as string[];
    const aof = (await redis.config("GET", "appendonly")) as string[];
    const actual = aof[1] === "yes" ? `AOF appendfsync ${reply[1]}` : "AOF off";
    const warn =
      aof[1] !== "yes" || reply[1] !== cfg.LIVEDROP_APPENDFSYNC
        ? ` (WARNING: livedrop expects AOF appendfsync ${cfg.LIVEDROP_APPENDFSYNC})`
        : "";
    return `, ${actual}${warn}`;
  } catch {
    return ", durability unknown (CONFIG not allowed)";
  }
}
