import { mkdirSync } from "node:fs";
import path from "node:path";
import { Registry } from "prom-client";
import {
  type Config,
  childLogger,
  connectRedis,
  describeTarget,
  type RedisClient,
  redisTargetFromConfig,
} from "../core/index.ts";
import { presenceEligibility } from "../gateway/index.ts";
import { describeStore, openOrderStore, startOrderPipeline } from "../orders/index.ts";
import { SaleEngine } from "../sale-engine/index.ts";
import { demoRoom, prepareClient } from "./client-demo.ts";
import { startGatewayNode } from "./gateway-node.ts";
import { claimDataDir, liveLauncher, stopOrphanRedis } from "./launcher-pid.ts";
import { isPortFree, refuseTakenPort } from "./ports.ts";
import { RedisServerProcess } from "./redis-server.ts";
import { RedisSupervisor } from "./redis-supervisor.ts";
import { openShadowLane } from "./shadow-lane.ts";

export interface RunningStack {
  /** One line per component: what runs where. */
  readonly lines: readonly string[];
  /** Stops every component, children last; safe to call twice. */
  stop(): Promise<void>;
  /** The stop step under way (for a forced exit's log line), if any. */
  stopping(): string | undefined;
}

/**
 * The local launcher behind `npm start`: an embedded redis-server (unless REDIS_URL or
 * REDIS_CLUSTER_NODES point elsewhere), supervised and restarted when it dies, the sale engine
 * and its expiry sweep, the order store (PGlite unless DATABASE_URL), the order pipeline, the
 * shadow lane, the gateway and the media tier. A taken port fails fast with PORT_IN_USE, before
 * anything starts.
 */
export async function startStack(cfg: Config): Promise<RunningStack> {
  const log = childLogger("launcher");
  const target = redisTargetFromConfig(cfg);
  const lines: string[] = [];
  const memory = new MemoryLine();
  const stops: { name: string; fn: () => Promise<void> }[] = [];
  let stopped = false;
  let current: string | undefined;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Each step gets a bounded time: a component stuck on a dead dependency (say, a queue worker
    // waiting for a Redis that is already gone) must not keep the launcher from exiting.
    for (const { name, fn } of stops.reverse()) {
      current = name;
      await withinBudget(fn(), cfg.LIVEDROP_STOP_STEP_MS).catch((err: unknown) =>
        log.warn({ err: (err as Error).message, step: name }, "stop step failed"),
      );
    }
    current = undefined;
  };

  try {
    mkdirSync(cfg.dataDir, { recursive: true });
    if (!cfg.GATEWAY_REUSE_PORT) await refuseTakenPort(cfg.GATEWAY_PORT, cfg.GATEWAY_HOST, "GATEWAY_PORT");
    const dir = path.join(cfg.dataDir, "redis");
    if (target.embedded && !(await isPortFree(cfg.LIVEDROP_REDIS_PORT))) {
      // Ours, left by a launcher that died (no parent-death signal on this system)? Take it over.
      if (liveLauncher(cfg.dataDir) === undefined) await stopOrphanRedis(dir, cfg.LIVEDROP_STOP_STEP_MS, log);
      await refuseTakenPort(cfg.LIVEDROP_REDIS_PORT, "127.0.0.1", "LIVEDROP_REDIS_PORT");
    }
    const release = claimDataDir(cfg.dataDir);
    stops.push({ name: "data directory", fn: async () => release() });
    if (target.embedded) {
      const server = await RedisServerProcess.start({
        port: cfg.LIVEDROP_REDIS_PORT,
        dir,
        appendfsync: cfg.LIVEDROP_APPENDFSYNC,
        ownProcessGroup: true,
      });
      const supervisor = new RedisSupervisor(server, {
        log,
        minBackoffMs: cfg.LIVEDROP_REDIS_RESTART_MIN_MS,
        maxBackoffMs: cfg.LIVEDROP_REDIS_RESTART_MAX_MS,
      });
      stops.push({ name: "embedded redis-server", fn: () => supervisor.stop() });
      lines.push(
        `redis        ${server.url}  embedded, AOF appendfsync ${cfg.LIVEDROP_APPENDFSYNC}, data ${dir}, restarted if it dies`,
      );
      memory.after("redis");
    }

    const redis = connectRedis(target);
    redis.on("error", (err) => log.warn({ err: err.message }, "redis connection error"));
    stops.push({ name: "redis connection", fn: async () => redis.disconnect() });
    if (!target.embedded) {
      await redis.ping();
      lines.push(`redis        ${describeTarget(target)}  external${await fsyncNote(redis, cfg)}`);
    }

    const engine = await SaleEngine.create({
      redis,
      prefix: cfg.LIVEDROP_KEY_PREFIX,
      ackConfig: cfg,
      // Giveaway draws skip entrants that no gateway node sees in the room.
      eligibleAtDraw: presenceEligibility(redis, cfg.LIVEDROP_KEY_PREFIX),
    });
    const drops = await engine.listDrops();
    lines.push(`sale engine  key prefix "${cfg.LIVEDROP_KEY_PREFIX}", ${drops.length} drop(s) on record`);
    memory.after("sale engine");

    const store = await openOrderStore(cfg);
    stops.push({ name: "order store", fn: () => store.close() });
    // The pipeline's metrics show on the gateway's /metrics (one process, one scrape).
    const pipelineMetrics = new Registry();
    const pipeline = await startOrderPipeline({ cfg, engine, store, registry: pipelineMetrics });
    stops.push({ name: "order pipeline", fn: () => pipeline.stop() });
    lines.push(
      `orders       ${describeStore(cfg)}, ${await store.count()} order(s); relay, workers, hold expiry and reconciler running`,
    );
    memory.after("orders");
    const shadow =
      cfg.LIVEDROP_SHADOW === "on" ? await openShadowLane(cfg, redis, { pipeline: true }) : undefined;
    if (shadow) {
      stops.push({ name: "shadow lane", fn: () => shadow.close() });
      lines.push(
        `shadow       load-test lane on: keys "${shadow.keyPrefix}", own queues and order tables (opened on first use), sandbox payments only (LIVEDROP_SHADOW=off turns it off)`,
      );
      memory.after("shadow");
    }
    const node = await startGatewayNode(cfg, {
      engine,
      store,
      redis,
      moreMetrics: [pipelineMetrics],
      ...(shadow ? { shadow } : {}),
    });
    const gateway = node.server;
    stops.push({ name: "gateway", fn: () => node.close() });
    lines.push(
      `gateway      ${gateway.url}  WebSocket /ws, JSON API /api/v1, health /healthz, readiness /readyz, metrics /metrics`,
    );
    memory.after("gateway");
    lines.push(`client       ${await prepareClient(log)}, served by the gateway`);
    lines.push(...(await demoRoom(cfg, engine, gateway.url)));
    memory.after("client");
    // The media tier and the test-pattern demo room; a media failure leaves the rest running.
    // mediasoup is loaded only by a process that runs the media tier.
    const { startMediaNode } = await import("../media/index.ts");
    const media = await startMediaNode(cfg, { demoRoom: "demo" });
    stops.push({ name: "media", fn: () => media.stop() });
    lines.push(...media.lines);
    memory.after("media");
    lines.push(memory.line());
    lines.push("cli          npx livedrop drop help | npx livedrop orders help");
  } catch (err) {
    await stop();
    throw err;
  }
  return { lines, stop, stopping: () => current };
}

/** The launcher's resident memory after each component started: where `npm start`'s RSS goes. */
class MemoryLine {
  private readonly steps: string[] = [];

  after(component: string): void {
    this.steps.push(`${component} ${mb(process.memoryUsage.rss())}`);
  }

  line(): string {
    const m = process.memoryUsage();
    return `memory       launcher RSS after ${this.steps.join(", ")}; now JS heap ${mb(m.heapUsed)}, external ${mb(m.external)} (child processes not counted)`;
  }
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MB`;
}

function withinBudget(step: Promise<void>, budgetMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${budgetMs} ms`)), budgetMs);
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
