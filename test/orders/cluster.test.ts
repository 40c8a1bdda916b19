import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Checkout, type OrderStore, SandboxToken } from "../../orders/index.ts";
import type { SaleEngine } from "../../sale-engine/index.ts";
import { type OrderStack, startOrderStack } from "../harness/order-stack.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedisCluster, startPrivateRedisCluster } from "../harness/redis.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

let cluster: PrivateRedisCluster;
let pg: PrivatePostgres;
let stack: OrderStack;
let engine: SaleEngine;
let store: OrderStore;
let checkout: Checkout;

beforeAll(async () => {
  [cluster, pg] = await Promise.all([startPrivateRedisCluster(), startPrivatePostgres()]);
  stack = await startOrderStack({
    redisEnv: { REDIS_CLUSTER_NODES: cluster.cluster.hostPorts.join(",") },
    redisClient: cluster.client(),
    databaseUrl: pg.url,
  });
  ({ engine, store, checkout } = stack);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([cluster?.stop(), pg?.stop()]);
});

describe("order pipeline on a 3-master Redis Cluster", () => {
  it("holds on drops in different slots become orders; payment and expiry work", async () => {
    const drops = [dropDefinition({ holdMs: 1_000 }), dropDefinition(), dropDefinition()];
    for (const d of drops) await engine.createDrop(d);
    const holds = await Promise.all(
      drops.flatMap((d) =>
        ["ann", "bob"].map((u) =>
          engine.reserve({ dropId: d.dropId, userId: u, qty: 1, idempotencyKey: key() }),
        ),
      ),
    );
    await expect
      .poll(async () => (await store.existing(holds.map((h) => h.reservationId))).size, { timeout: 15_000 })
      .toBe(holds.length);
    const toPay = holds.find((h) => h.dropId === drops[1]!.dropId)!;
    expect(
      (
        await checkout.pay({
          reservationId: toPay.reservationId,
          userId: toPay.userId,
          token: SandboxToken.success,
          idempotencyKey: key(),
        })
      ).status,
    ).toBe("paid");
    const shortLived = holds.filter((h) => h.dropId === drops[0]!.dropId);
    await expect
      .poll(
        async () => Promise.all(shortLived.map(async (h) => (await store.get(h.reservationId))?.status)),
        { timeout: 15_000 },
      )
      .toEqual(["expired", "expired"]);
    expect(await engine.status(drops[0]!.dropId)).toMatchObject({
      available: drops[0]!.initialStock,
      held: 0,
    });
  });
});
