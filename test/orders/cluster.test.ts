import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../core/index.ts";
import {
  Checkout,
  OrderStore,
  type RunningPipeline,
  SandboxPaymentProvider,
  SandboxToken,
  startOrderPipeline,
} from "../../orders/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedisCluster, startPrivateRedisCluster, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

let cluster: PrivateRedisCluster;
let pg: PrivatePostgres;
let engine: SaleEngine;
let store: OrderStore;
let pipeline: RunningPipeline;
let checkout: Checkout;
let dataDir: string;

beforeAll(async () => {
  [cluster, pg] = await Promise.all([startPrivateRedisCluster(), startPrivatePostgres()]);
  dataDir = mkdtempSync(path.join(os.tmpdir(), "livedrop-cluster-orders-"));
  const prefix = uniquePrefix("corders");
  const cfg = loadConfig({
    REDIS_CLUSTER_NODES: cluster.cluster.hostPorts.join(","),
    DATABASE_URL: pg.url,
    LIVEDROP_KEY_PREFIX: prefix,
    LIVEDROP_DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
  });
  engine = await SaleEngine.create({ redis: cluster.client(), prefix });
  store = await OrderStore.open({ kind: "pg", url: pg.url });
  pipeline = await startOrderPipeline({ cfg, engine, store });
  checkout = new Checkout({
    engine,
    store,
    payments: new SandboxPaymentProvider(),
    redis: engine.connection,
    keyPrefix: prefix,
  });
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  await store?.close();
  await engine?.close();
  await Promise.all([cluster?.stop(), pg?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
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
