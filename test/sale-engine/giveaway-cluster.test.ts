import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawInputOf, SaleEngine, verifyDraw } from "../../sale-engine/index.ts";
import { type PrivateRedisCluster, startPrivateRedisCluster, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key, until } from "./fixtures.ts";

// The pin script and a giveaway's draw touch only keys under the drop's hash tag: on Redis
// Cluster they run as on one server, for drops spread over the slots.

let cluster: PrivateRedisCluster;
let engine: SaleEngine;
const absent = new Set(["gone"]);

beforeAll(async () => {
  cluster = await startPrivateRedisCluster();
  engine = await SaleEngine.create({
    redis: cluster.client(),
    prefix: uniquePrefix("givecl"),
    ackReplicas: 0,
    eligibleAtDraw: async (_room, userIds) => new Set(userIds.filter((u) => !absent.has(u))),
  });
}, 120_000);
afterAll(async () => {
  await engine?.close();
  await cluster?.stop();
});

const FREE = {
  sku: "GIFT-1",
  title: "Signed poster",
  priceMinor: 0,
  currency: "USD",
  imageUrl: "https://cdn.example.com/poster.jpg",
};

describe("giveaways and buy-it-now on Redis Cluster", () => {
  it("pins gate buys and giveaways skip absent entrants on drops spread over the slots", async () => {
    const now = await engine.serverTime();
    const shops = [1, 2, 3].map(() =>
      dropDefinition({ format: "buy_now", initialStock: 1, perUserLimit: 1 }),
    );
    const gifts = [1, 2, 3].map(() =>
      dropDefinition({
        format: "giveaway",
        product: FREE,
        raffleWindowMs: 60_000,
        startsAt: now - 60_000 + 4_000,
        initialStock: 1,
        perUserLimit: 1,
      }),
    );
    for (const d of [...shops, ...gifts]) await engine.createDrop(d);
    for (const d of gifts)
      for (const u of ["gone", "here"]) {
        const r = await engine.buy({ dropId: d.dropId, userId: u, qty: 1, idempotencyKey: key() });
        expect(r.kind).toBe("entered");
      }
    for (const d of shops) {
      const buy = () => engine.reserve({ dropId: d.dropId, userId: "u", qty: 1, idempotencyKey: "k1" });
      await expect(buy()).rejects.toMatchObject({ code: "NOT_PINNED" });
      expect((await engine.pin(d.dropId)).changed).toBe(true);
      expect((await buy()).available).toBe(0);
    }
    for (const d of gifts) {
      await until(async () => ((await engine.allocateFairWindow(d.dropId)).allocated ? true : undefined));
      const draw = await engine.fairDraw(d.dropId);
      if (!draw) throw new Error("expected a draw");
      expect(draw.skipped).toHaveLength(1);
      const [winner] = await engine.fairEntriesOf(d.dropId, "here");
      expect(winner).toMatchObject({ status: "won", granted: 1 });
      expect(await engine.fairEntriesOf(d.dropId, "gone")).toEqual([
        expect.objectContaining({ status: "lost", granted: 0 }),
      ]);
      expect(verifyDraw(draw.seed, draw.seedHash, drawInputOf(draw), draw.results)).toEqual({ ok: true });
    }
  });
});
