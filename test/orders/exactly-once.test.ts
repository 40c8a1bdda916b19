import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, type RedisClient } from "../../core/index.ts";
import { type OrderQueues, OrderStore, openQueues } from "../../orders/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/livedrop.mjs");
const RESERVATIONS = 1_000;

let redis: PrivateRedis;
let pg: { url: string; stop(): Promise<void> };
let engine: SaleEngine;
let store: OrderStore;
let queues: OrderQueues;
let bullConnection: RedisClient;
let prefix: string;
let worker: ChildProcess | undefined;

function env(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    REDIS_URL: redis.url,
    DATABASE_URL: pg.url,
    LIVEDROP_KEY_PREFIX: prefix,
    LOG_LEVEL: "warn",
  };
}

/** A real `livedrop worker` child process. */
function startWorker(): ChildProcess {
  const child = spawn(process.execPath, [bin, "worker"], {
    env: env(),
    stdio: ["ignore", "ignore", "inherit"],
  });
  worker = child;
  return child;
}

async function killWorker(): Promise<void> {
  const child = worker;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

beforeAll(async () => {
  [redis, pg] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
  prefix = uniquePrefix("once");
  engine = await SaleEngine.create({ redis: redis.client(), prefix });
  store = await OrderStore.open({ kind: "pg", url: pg.url });
  bullConnection = connectRedis(
    { url: redis.url },
    { maxRetriesPerRequest: null, enableAutoPipelining: false },
  );
  queues = await openQueues(bullConnection, prefix);
}, 120_000);

afterAll(async () => {
  await killWorker();
  await queues?.close();
  bullConnection?.disconnect();
  await store?.close();
  await engine?.close();
  await Promise.all([redis?.stop(), pg?.stop()]);
});

describe("exactly-once orders", () => {
  it(`${RESERVATIONS} holds become ${RESERVATIONS} orders while the worker is SIGKILLed and restarted and duplicate jobs are injected`, async () => {
    const def = dropDefinition({ initialStock: RESERVATIONS, perUserLimit: 1, holdMs: 600_000 });
    await engine.createDrop(def);
    startWorker();

    // Chaos: kill the worker at random moments and start a new one.
    let chaos = true;
    let kills = 0;
    const chaosLoop = (async () => {
      while (chaos) {
        await new Promise((r) => setTimeout(r, 500 + Math.random() * 700));
        if (!chaos) break;
        await killWorker();
        kills += 1;
        startWorker();
      }
    })();

    const reservationIds: string[] = [];
    let duplicates = 0;
    for (let batch = 0; batch < RESERVATIONS / 50; batch++) {
      const placed = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          engine.reserve({
            dropId: def.dropId,
            userId: `buyer-${batch * 50 + i}`,
            qty: 1,
            idempotencyKey: key(),
          }),
        ),
      );
      reservationIds.push(...placed.map((p) => p.reservationId));
      // Duplicates: the same order job again under its own id, and as a new job id.
      const victim = placed[Math.floor(Math.random() * placed.length)]!;
      const data = {
        kind: "create" as const,
        reservationId: victim.reservationId,
        dropId: def.dropId,
        userId: victim.userId,
        qty: 1,
        deadline: victim.deadline,
        placedAt: Date.now(),
      };
      await queues.orders.add("create", data, { jobId: victim.reservationId });
      await queues.orders.add("create", data, { jobId: `dup-${victim.reservationId}-${batch}` });
      duplicates += 2;
      await new Promise((r) => setTimeout(r, 150));
    }
    // The buys can be over before the third kill: the chaos goes on (the orders still drain
    // meanwhile) until the worker has been killed three times.
    while (kills < 3) await new Promise((r) => setTimeout(r, 100));
    chaos = false;
    await chaosLoop;
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(duplicates).toBe(RESERVATIONS / 25);

    await expect.poll(() => store.count(), { timeout: 90_000, interval: 250 }).toBe(RESERVATIONS);
    await expect
      .poll(async () => (await queues.orders.getJobCounts("waiting", "active", "delayed")).waiting, {
        timeout: 30_000,
      })
      .toBe(0);

    const existing = await store.existing(reservationIds);
    expect(existing.size).toBe(RESERVATIONS);
    expect(await store.count()).toBe(RESERVATIONS);
    const orders = await store.list({ dropId: def.dropId, limit: 500 });
    for (const order of orders) {
      expect(
        (await store.events(order.reservationId)).filter((e) => e.toStatus === "pending_payment"),
      ).toHaveLength(1);
    }
    const status = await engine.status(def.dropId);
    expect(status).toMatchObject({ held: RESERVATIONS, available: 0, sold: 0 });
    expect(status.available + status.held + status.sold).toBe(status.initial + status.restocked);
  });
});
