import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { connectRedis, loadConfig, type RedisClient, ValidationError } from "../core/index.ts";
import { freePort, RedisServerProcess } from "../deploy/index.ts";
import { OrderStore, startOrderPipeline } from "../orders/index.ts";
import { SaleEngine } from "../sale-engine/index.ts";
import { startGatewayChild } from "./gateway-child.ts";
import { progress, round } from "./measure.ts";

/** The ratio of idle Redis commands per second, many ended drops vs few, that passes. */
const TARGET_RATIO = 1.2;
/** Hold time of the history's reservations, ms: long enough to pay on a loaded machine. */
const HOLD_MS = 5_000;
/** Drops set up at once. */
const SETUP_CONCURRENCY = 50;

/**
 * What a quiet deployment costs Redis, and whether it grows with history: the order pipeline
 * (relay, reconciler, hold expirer, expiry sweep) and a `livedrop gateway` child run over 10
 * and then 2,000 finished drops (each had one paid and one expired hold, then ended), and
 * Redis's `total_commands_processed` is read before and after a window with no traffic.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      few: { type: "string", default: "10" },
      many: { type: "string", default: "2000" },
      window: { type: "string" },
      gateway: { type: "string", default: "on" },
    },
    strict: true,
  });
  const few = Number(values.few);
  const many = Number(values.many);
  const windowMs = Number(values.window ?? (values.quick ? 5_000 : 10_000));
  if (!(Number.isInteger(few) && Number.isInteger(many) && few >= 1 && many >= few && many <= 100_000))
    throw new ValidationError("--few 1.., --many few..100000");
  if (!(windowMs >= 1_000 && windowMs <= 600_000)) throw new ValidationError("--window 1000..600000 (ms)");
  if (values.gateway !== "on" && values.gateway !== "off") throw new ValidationError("--gateway on|off");
  const gateway = values.gateway === "on";

  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-bench-idle-"));
  const redis = await RedisServerProcess.start({
    port: await freePort(),
    dir: path.join(dir, "redis"),
    appendfsync: "everysec",
  });
  try {
    const a = await scenario({ redisUrl: redis.url, dir, drops: few, windowMs, gateway });
    const b = await scenario({ redisUrl: redis.url, dir, drops: many, windowMs, gateway });
    const result = {
      bench: "idle",
      opsPerSecFew: round(a.opsPerSec, 1),
      opsPerSecMany: round(b.opsPerSec, 1),
      ratio: round(b.opsPerSec / a.opsPerSec, 3),
      scriptsPerSecFew: round(a.scriptsPerSec, 1),
      scriptsPerSecMany: round(b.scriptsPerSec, 1),
      fewDrops: few,
      manyDrops: many,
      windowMs,
      gateway,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return result.ratio <= TARGET_RATIO ? 0 : 1;
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Measured {
  readonly opsPerSec: number;
  readonly scriptsPerSec: number;
}

/** One key space: its history set up, the pipeline (and gateway) started and settled, then measured. */
async function scenario(o: {
  redisUrl: string;
  dir: string;
  drops: number;
  windowMs: number;
  gateway: boolean;
}): Promise<Measured> {
  const prefix = `idle-${o.drops}-${randomUUID().slice(0, 6)}`;
  const home = path.join(o.dir, prefix);
  mkdirSync(home, { recursive: true });
  const client = connectRedis({ url: o.redisUrl });
  const engine = await SaleEngine.create({ redis: client, prefix });
  const started = Date.now();
  await setUpHistory(engine, o.drops);
  progress(`${o.drops} drops: history set up in ${Date.now() - started} ms`);

  const store = await OrderStore.open({ kind: "pglite", dataDir: path.join(home, "orders") });
  const cfg = loadConfig({
    REDIS_URL: o.redisUrl,
    LIVEDROP_DATA_DIR: home,
    LIVEDROP_KEY_PREFIX: prefix,
    LOG_LEVEL: "warn",
  });
  const pipeline = await startOrderPipeline({ cfg, engine, store });
  let child: ChildProcess | undefined;
  try {
    if (o.gateway) {
      ({ child } = await startGatewayChild({
        redisUrl: o.redisUrl,
        dataDir: path.join(home, "gateway"),
        keyPrefix: prefix,
        tokenSecret: randomUUID().repeat(2),
        maxConnectionsPerIp: 10,
      }));
    }
    // Settled: every hold is an order that left pending, and no drop is active any more.
    const until = Date.now() + 300_000;
    for (;;) {
      const pending = await store.list({ status: "pending_payment", limit: 1 });
      const orders = await store.count();
      const active = (await engine.activeDrops()).length;
      if (pending.length === 0 && orders === 2 * o.drops && active === 0) break;
      if (Date.now() > until)
        throw new Error(
          `not settled after 300 s: ${orders} orders, ${pending.length} pending, ${active} active`,
        );
      await sleep(250);
    }
    progress(`${o.drops} drops: settled ${Date.now() - started} ms after start; measuring ${o.windowMs} ms`);
    // Start-up work (first sweep and index repair, BullMQ's first checks) is behind us.
    await sleep(3_000);
    return await measure(client, o.windowMs, o.drops);
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await pipeline.stop();
    await store.close();
    await engine.close();
    client.disconnect();
  }
}

/** Each drop: one hold paid, one left to expire, then ended (it leaves the index once settled). */
async function setUpHistory(engine: SaleEngine, drops: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: SETUP_CONCURRENCY }, async () => {
      while (next < drops) {
        const dropId = `idle-${next++}`;
        await engine.createDrop({
          dropId,
          roomId: `room-${next % 20}`,
          product: {
            sku: "IDLE",
            title: "Idle bench item",
            priceMinor: 100,
            currency: "USD",
            imageUrl: "https://example.com/x.png",
          },
          initialStock: 10,
          perUserLimit: 1,
          holdMs: HOLD_MS,
        });
        const paid = await engine.reserve({ dropId, userId: "payer", qty: 1, idempotencyKey: "k-paid" });
        await engine.confirm(paid.reservationId);
        await engine.reserve({ dropId, userId: "leaver", qty: 1, idempotencyKey: "k-left" });
        await engine.end(dropId);
      }
    }),
  );
}

/** Redis commands per second over the window (INFO's own calls left out), and scripts per second. */
async function measure(client: RedisClient, windowMs: number, drops: number): Promise<Measured> {
  const read = async () => {
    const info = await client.info("all");
    const total = Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN);
    const calls = new Map<string, number>();
    for (const m of info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) calls.set(m[1] ?? "", Number(m[2]));
    return { total, calls, at: performance.now() };
  };
  const before = await read();
  await sleep(windowMs);
  const after = await read();
  const seconds = (after.at - before.at) / 1000;
  const delta = (name: string) => (after.calls.get(name) ?? 0) - (before.calls.get(name) ?? 0);
  const top = [...after.calls.keys()]
    .map((name) => [name, delta(name) - (name === "info" ? 1 : 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 8)
    .map(([name, n]) => `${name} ${round(n / seconds, 1)}/s`);
  progress(`${drops} drops: ${top.join(", ")}`);
  return {
    opsPerSec: (after.total - before.total - 1) / seconds,
    scriptsPerSec: (delta("evalsha") + delta("eval")) / seconds,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
