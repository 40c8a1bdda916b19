import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OrderStore } from "../../orders/index.ts";
import type { Reservation, SaleEngine } from "../../sale-engine/index.ts";
import { type OrderStack, startOrderStack } from "../harness/order-stack.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";

let redis: PrivateRedis;
let pg: PrivatePostgres;
let stack: OrderStack;
let engine: SaleEngine;
let store: OrderStore;

beforeAll(async () => {
  [redis, pg] = await Promise.all([startPrivateRedis({ appendfsync: "always" }), startPrivatePostgres()]);
  const client = redis.client();
  client.on("error", () => {});
  stack = await startOrderStack({
    redisEnv: { REDIS_URL: redis.url },
    redisClient: client,
    databaseUrl: pg.url,
  });
  ({ engine, store } = stack);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([redis?.stop(), pg?.stop()]);
});

describe("order pipeline across a Redis crash", () => {
  it("Redis SIGKILLed mid-run and restarted from its AOF: every acknowledged hold still becomes an order", async () => {
    const def = dropDefinition({ initialStock: 10_000, perUserLimit: 1, holdMs: 600_000 });
    await engine.createDrop(def);
    const acked: Reservation[] = [];
    let n = 0;
    let buying = true;
    const buyer = (async () => {
      while (buying) {
        const batch = Array.from({ length: 20 }, () => n++);
        const results = await Promise.allSettled(
          batch.map((i) =>
            engine.reserve({ dropId: def.dropId, userId: `u${i}`, qty: 1, idempotencyKey: `k-${i}` }),
          ),
        );
        for (const r of results) if (r.status === "fulfilled") acked.push(r.value);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    await new Promise((r) => setTimeout(r, 800));
    const beforeCrash = acked.length;
    await redis.server.kill();
    await new Promise((r) => setTimeout(r, 300));
    await redis.server.restart();
    await new Promise((r) => setTimeout(r, 1_000));
    buying = false;
    await buyer;

    expect(beforeCrash).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThan(beforeCrash);
    const ids = [...new Set(acked.map((a) => a.reservationId))];
    await expect
      .poll(async () => (await store.existing(ids)).size, { timeout: 60_000, interval: 250 })
      .toBe(ids.length);
    // Every hold in Redis has its order, also one whose answer was lost in the crash.
    const status = await engine.status(def.dropId);
    expect(status.held).toBeGreaterThanOrEqual(ids.length);
    await expect.poll(() => store.count(), { timeout: 30_000, interval: 250 }).toBe(status.held);
  }, 150_000);
});
