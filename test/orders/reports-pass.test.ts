import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childLogger } from "../../core/index.ts";
import { type FunnelSource, OrderStore, ReportsPass } from "../../orders/index.ts";
import { roomSummarySchema } from "../../protocol/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition } from "../sale-engine/fixtures.ts";

/**
 * The reports pass on a real sale engine (private Redis) and order store (PGlite): running drops
 * get funnel snapshots, a drop that ended gets a final one, and a room's summary files appear once
 * none of its drops is running, and stay byte for byte the same on later passes.
 */
let redis: PrivateRedis;
let engine: SaleEngine;
let store: OrderStore;
let tmp = "";
/** The Redis-side figures the pass reads: set by the test as viewers come and clicks add up. */
const figures = new Map<string, { viewers: number; buyClicks: number }>();
const funnel: FunnelSource = {
  read: async (drops) =>
    new Map(drops.map((d) => [d.dropId, figures.get(d.dropId) ?? { viewers: 0, buyClicks: 0 }])),
};
let pass: ReportsPass;

beforeAll(async () => {
  redis = await startPrivateRedis();
  engine = await SaleEngine.create({
    redis: redis.client(),
    prefix: uniquePrefix("reports"),
    ownsConnection: true,
  });
  tmp = mkdtempSync(path.join(os.tmpdir(), "livedrop-reports-pass-"));
  store = await OrderStore.open({ kind: "pglite", dataDir: path.join(tmp, "orders") });
  pass = new ReportsPass({
    engine,
    store,
    funnel,
    dir: path.join(tmp, "reports"),
    funnelSnapshotS: 30,
    summaryIntervalS: 60,
    summaryScanDrops: 500,
    log: childLogger("reports-pass-test"),
  });
}, 120_000);

afterAll(async () => {
  await pass?.stop();
  await store?.close();
  await engine?.close();
  await redis?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("ReportsPass", () => {
  it("snapshots running drops, finishes ended ones, and writes a room's summary once none runs", async () => {
    const room = "pass-room";
    const a = dropDefinition({ roomId: room });
    const b = dropDefinition({ roomId: room });
    const elsewhere = dropDefinition({ roomId: "pass-other" });
    for (const d of [a, b, elsewhere]) await engine.createDrop(d);
    await store.createOrder({
      reservationId: `${a.dropId}.1`,
      dropId: a.dropId,
      roomId: room,
      userId: "buyer-1",
      sku: a.product.sku,
      title: a.product.title,
      qty: 2,
      unitPriceMinor: a.product.priceMinor,
      currency: a.product.currency,
      holdDeadline: Date.now() + 60_000,
    });
    await store.transition(`${a.dropId}.1`, "paid", { reason: "test", paymentRef: "pay-1" });

    figures.set(a.dropId, { viewers: 120, buyClicks: 40 });
    expect(await pass.tick()).toEqual([]);

    // A ends with fewer viewers left in the room; B still runs, so no summary yet.
    figures.set(a.dropId, { viewers: 30, buyClicks: 55 });
    await engine.end(a.dropId);
    expect(await pass.tick()).toEqual([]);
    const jsonPath = path.join(tmp, "reports", `${room}.json`);
    expect(existsSync(jsonPath)).toBe(false);

    await engine.end(b.dropId);
    expect(await pass.tick()).toEqual([room]);
    const summary = roomSummarySchema.parse(JSON.parse(readFileSync(jsonPath, "utf8")));
    expect(summary.drops).toEqual([
      expect.objectContaining({ dropId: a.dropId, viewers: 120, buyClicks: 55, holds: 1, paid: 1, units: 2 }),
    ]);
    expect(summary.totals).toEqual([
      expect.objectContaining({
        paidOrders: 1,
        grossMinor: 2 * a.product.priceMinor,
        netMinor: 2 * a.product.priceMinor,
      }),
    ]);
    const csv = readFileSync(path.join(tmp, "reports", `${room}.csv`), "utf8");
    expect(csv.split("\r\n")[1]).toMatch(new RegExp(`^${a.dropId},${room},drop,USD,1,1,2,`));

    // Later passes, and a click count that came in late, change nothing: the snapshot is final.
    figures.set(a.dropId, { viewers: 500, buyClicks: 999 });
    const json = readFileSync(jsonPath, "utf8");
    expect(await pass.tick()).toEqual([]);
    expect(await pass.scheduled()).toEqual([]);
    expect(readFileSync(jsonPath, "utf8")).toBe(json);
    expect(readFileSync(path.join(tmp, "reports", `${room}.csv`), "utf8")).toBe(csv);
  });

  it("the scheduled pass summarises a room whose drops all ended, and not one with a drop running", async () => {
    const running = dropDefinition({ roomId: "sched-running" });
    const ended = dropDefinition({ roomId: "sched-ended" });
    for (const d of [running, ended]) await engine.createDrop(d);
    await engine.end(ended.dropId);
    const written = await pass.scheduled();
    expect(written).toContain("sched-ended");
    expect(written).not.toContain("sched-running");
    expect(existsSync(path.join(tmp, "reports", "sched-running.json"))).toBe(false);
    const summary = roomSummarySchema.parse(
      JSON.parse(readFileSync(path.join(tmp, "reports", "sched-ended.json"), "utf8")),
    );
    // No orders: an empty summary, still written, so a BI import finds the room.
    expect(summary).toMatchObject({ roomId: "sched-ended", totals: [], drops: [], coupons: [] });
  });
});
