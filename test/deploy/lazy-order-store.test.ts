import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../core/index.ts";
import { openShadowLane, shadowConfig } from "../../deploy/index.ts";
import { lazyOrderStore } from "../../deploy/lazy-order-store.ts";
import { startOrderPipeline } from "../../orders/index.ts";
import { startPrivateRedis } from "../harness/redis.ts";

describe("lazyOrderStore (the shadow lane's order store)", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "livedrop-lazy-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("creates nothing until its first call, then opens once for concurrent callers and closes", async () => {
    const dataDir = path.join(root, "first-use");
    const store = lazyOrderStore({ kind: "pglite", dataDir });
    expect(store.kind).toBe("pglite");
    expect(store.opened).toBe(false);
    expect(existsSync(dataDir)).toBe(false);

    const [count, orders] = await Promise.all([store.count(), store.list({ dropId: "none" })]);
    expect(count).toBe(0);
    expect(orders).toEqual([]);
    expect(store.opened).toBe(true);
    expect(store.appliedMigrations.length).toBeGreaterThan(0);
    expect(existsSync(dataDir)).toBe(true);

    await store.close();
    await store.close();
    await expect(store.count()).rejects.toThrow("closed");
  }, 180_000);

  it("an idle shadow lane's pipeline passes leave it unopened", async () => {
    const redis = await startPrivateRedis();
    const dataDir = path.join(root, "idle-lane");
    const cfg = loadConfig({ REDIS_URL: redis.url, LIVEDROP_DATA_DIR: root, LOG_LEVEL: "silent" });
    const lane = await openShadowLane(cfg, redis.client(), { pipeline: false });
    const store = lazyOrderStore({ kind: "pglite", dataDir });
    const pipeline = await startOrderPipeline({
      cfg: shadowConfig(cfg),
      engine: lane.engine,
      store,
      storeUnopened: () => !store.opened,
    });
    try {
      // What the timers run every few seconds: the hold and the payment reconciler's passes.
      expect(await pipeline.reconciler.pass()).toBe(0);
      expect(await pipeline.paymentReconciler.pass()).toEqual({
        paid: 0,
        refunded: 0,
        uncaptured: 0,
        failed: 0,
      });
      expect(store.opened).toBe(false);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await pipeline.stop();
      await store.close();
      await lane.close();
      await redis.stop();
    }
  }, 60_000);

  it("closing a store that was never used opens nothing", async () => {
    const dataDir = path.join(root, "never-used");
    const store = lazyOrderStore({ kind: "pglite", dataDir });
    await store.close();
    expect(existsSync(dataDir)).toBe(false);
  });
});
