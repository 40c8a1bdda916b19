import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../core/index.ts";
import { OrderStore, type RunningPipeline, startOrderPipeline } from "../../orders/index.ts";
import { type Reservation, SaleEngine } from "../../sale-engine/index.ts";
import { startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";

let redis: PrivateRedis;
let pg: { url: string; stop(): Promise<void> };
let engine: SaleEngine;
let store: OrderStore;
let pipeline: RunningPipeline;
let dataDir: string;

beforeAll(async () => {
  [redis, pg] = await Promise.all([startPrivateRedis({ appendfsync: "always" }), startPrivatePostgres()]);
  dataDir = mkdtempSync(path.join(os.tmpdir(), "livedrop-restart-"));
  const prefix = uniquePrefix("restart");
  const client = redis.client();
  client.on("error", () => {});
  engine = await SaleEngine.create({ redis: client, prefix });
  store = await OrderStore.open({ kind: "pg", url: pg.url });
  const cfg = loadConfig({
    REDIS_URL: redis.url,
    LIVEDROP_KEY_PREFIX: prefix,
    LIVEDROP_DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
  });
  pipeline = await startOrderPipeline({ cfg, engine, store, reconcileMs: 1_000 });
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  await store?.close();
  await engine?.close();
  await Promise.all([redis?.stop(), pg?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
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
