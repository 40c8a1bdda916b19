import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Coupons, keySpace } from "../../sale-engine/index.ts";
import { type PrivateRedisCluster, startPrivateRedisCluster, uniquePrefix } from "../harness/redis.ts";
import { key } from "./fixtures.ts";

// Each coupon script touches one coupon hash, and a room's coupons share a hash tag: on Redis
// Cluster claims, quotas and redemption work as on one server, for rooms spread over the slots.

let cluster: PrivateRedisCluster;
let coupons: Coupons;
let probe: ReturnType<PrivateRedisCluster["client"]>;
const prefix = uniquePrefix("couponcl");

beforeAll(async () => {
  cluster = await startPrivateRedisCluster();
  coupons = new Coupons({ redis: cluster.client(), prefix });
  probe = cluster.client();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

describe("coupons on Redis Cluster", () => {
  it("claims keep their quotas and redeem once in rooms on different slots", async () => {
    const rooms = ["alpha", "beta", "gamma", "delta"];
    const slots = new Set<number>();
    for (const roomId of rooms) {
      await coupons.pin({ roomId, code: "LIVE5", discount: { kind: "percent", percent: 5 }, quota: 3 });
      await coupons.pin({
        roomId,
        code: "OTHER",
        discount: { kind: "amount", amountMinor: 50, currency: "USD" },
        quota: 3,
      });
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          coupons.claim({ roomId, code: "LIVE5", userId: `u${i}`, idempotencyKey: key(), live: true }),
        ),
      );
      const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      expect(won).toHaveLength(3);
      const first = won[0];
      if (!first) throw new Error("no claim");
      await expect(
        coupons.apply(first.claimId, first.userId, `${roomId}d.1`, 1_000, "USD"),
      ).resolves.toMatchObject({
        discountMinor: 50,
      });
      expect(await coupons.settle(first.couponId, `${roomId}d.1`, "paid")).toBe("R");
      expect(await coupons.status(roomId, "LIVE5")).toMatchObject({ claimed: 3, redeemed: 1 });
      const k = keySpace(prefix);
      const [a, b, codes] = [k.coupon(roomId, "LIVE5"), k.coupon(roomId, "OTHER"), k.couponCodes(roomId)];
      const [slotA = -1, slotB = -2, slotCodes = -3] = await Promise.all(
        [a, b, codes].map(async (name) => Number(await probe.cluster("KEYSLOT", name))),
      );
      expect(slotA).toBe(slotB);
      expect(slotCodes).toBe(slotA);
      expect((await coupons.list(roomId)).map((c) => c.code)).toEqual(["LIVE5", "OTHER"]);
      slots.add(slotA);
    }
    // The tags are fixed strings, so the rooms' slots are too: these four spread over several.
    expect(slots.size).toBeGreaterThan(1);
  });
});
