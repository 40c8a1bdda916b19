import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "../../core/index.ts";
import { COUPON_LIMITS } from "../../protocol/index.ts";
import { Coupons } from "../../sale-engine/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";
import { key } from "./fixtures.ts";

let redis: PrivateRedis;
let client: RedisClient;
let coupons: Coupons;
let seq = 0;

const room = () => `room-${++seq}`;
const claimOf = (roomId: string, code: string, userId: string, idempotencyKey = key()) =>
  coupons.claim({ roomId, code, userId, idempotencyKey, live: true });

async function serverTime(): Promise<number> {
  const [s, us] = await client.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

beforeAll(async () => {
  redis = await startPrivateRedis();
  client = redis.client();
  coupons = new Coupons({ redis: client, prefix: uniquePrefix("coupon") });
}, 60_000);
afterAll(async () => {
  await redis?.stop();
});

describe("coupon claims", () => {
  it("50 parallel claims of a quota of 10 give exactly 10", async () => {
    const roomId = room();
    await coupons.pin({ roomId, code: "TEN", discount: { kind: "percent", percent: 10 }, quota: 10 });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => claimOf(roomId, "TEN", `buyer${i}`)),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason.code] : []));
    expect(won).toHaveLength(10);
    expect(refused).toEqual(Array(40).fill("COUPON_EXHAUSTED"));
    expect(new Set(won.map((r) => r.status === "fulfilled" && r.value.claimId)).size).toBe(10);
    expect(await coupons.status(roomId, "TEN")).toMatchObject({ claimed: 10, quota: 10, redeemed: 0 });
  });

  it("a buyer gets at most their per-buyer quota, even in parallel", async () => {
    const roomId = room();
    await coupons.pin({
      roomId,
      code: "TWO",
      discount: { kind: "amount", amountMinor: 100, currency: "USD" },
      quota: 100,
      perBuyer: 2,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => claimOf(roomId, "TWO", "greedy")),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    expect(results.flatMap((r) => (r.status === "rejected" ? [r.reason.code] : []))).toEqual(
      Array(6).fill("COUPON_LIMIT_REACHED"),
    );
    await expect(claimOf(roomId, "TWO", "other")).resolves.toMatchObject({ replayed: false });
  });

  it("a retry with the same key answers the same claim and takes no more quota", async () => {
    const roomId = room();
    await coupons.pin({ roomId, code: "ONCE", discount: { kind: "percent", percent: 5 }, quota: 1 });
    const k = key();
    const first = await claimOf(roomId, "ONCE", "u1", k);
    const again = await Promise.all([claimOf(roomId, "ONCE", "u1", k), claimOf(roomId, "ONCE", "u1", k)]);
    expect(first).toMatchObject({ replayed: false, couponId: `${roomId}.ONCE` });
    for (const a of again) expect(a).toEqual({ ...first, replayed: true });
    expect((await coupons.status(roomId, "ONCE"))?.claimed).toBe(1);
    // Answered even after the coupon was unpinned: the retry is of a claim already made.
    await coupons.unpin(roomId, "ONCE");
    await expect(claimOf(roomId, "ONCE", "u1", k)).resolves.toMatchObject({ claimId: first.claimId });
  });

  it("refuses an unpinned, expired, unknown coupon and a room that is not live", async () => {
    const roomId = room();
    const now = await serverTime();
    await coupons.pin({ roomId, code: "OFF", discount: { kind: "percent", percent: 20 }, quota: 5 });
    await coupons.unpin(roomId, "OFF");
    await expect(claimOf(roomId, "OFF", "u")).rejects.toMatchObject({ code: "COUPON_NOT_ACTIVE" });
    await coupons.pin({ roomId, code: "OFF", discount: { kind: "percent", percent: 20 }, quota: 5 });
    await expect(claimOf(roomId, "OFF", "u")).resolves.toMatchObject({ replayed: false });

    await coupons.pin({
      roomId,
      code: "PAST",
      discount: { kind: "percent", percent: 20 },
      quota: 5,
      validUntil: now - 1,
    });
    await expect(claimOf(roomId, "PAST", "u")).rejects.toMatchObject({ code: "COUPON_NOT_ACTIVE" });
    await expect(claimOf(roomId, "NOPE", "u")).rejects.toMatchObject({ code: "COUPON_NOT_FOUND" });
    await expect(
      coupons.claim({ roomId, code: "OFF", userId: "v", idempotencyKey: key(), live: false }),
    ).rejects.toMatchObject({ code: "COUPON_NOT_ACTIVE" });
  });

  it("a coupon valid until an instant is claimable before it and refused from it on", async () => {
    const roomId = room();
    await coupons.pin({
      roomId,
      code: "SOON",
      discount: { kind: "percent", percent: 20 },
      quota: 1_000,
      perBuyer: 1_000,
      validUntil: (await serverTime()) + 3_000,
    });
    await expect(claimOf(roomId, "SOON", "u")).resolves.toMatchObject({ replayed: false });
    let code: string | undefined;
    for (const deadline = Date.now() + 20_000; code === undefined && Date.now() < deadline; ) {
      code = await claimOf(roomId, "SOON", "u").then(
        () => undefined,
        (err: { code: string }) => err.code,
      );
      if (code === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(code).toBe("COUPON_NOT_ACTIVE");
  });

  it("bad input is a typed error", async () => {
    const roomId = room();
    const bad = { roomId, discount: { kind: "percent", percent: 10 }, quota: 1 } as const;
    for (const pin of [
      { ...bad, code: "ab" },
      { ...bad, code: "TOOLONGCODE0123456789X" },
      { ...bad, code: "OK1", discount: { kind: "percent", percent: 91 } },
      { ...bad, code: "OK1", discount: { kind: "amount", amountMinor: 0, currency: "USD" } },
      { ...bad, code: "OK1", perBuyer: 2 },
    ])
      await expect(coupons.pin(pin as never)).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(coupons.apply("not-a-claim", "u", "d.1", 100, "USD")).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
  });
});

describe("a room's coupons", () => {
  it("list answers the pinned coupons sorted by code, without unpinned ones or other rooms'", async () => {
    const [roomId, other] = [room(), room()];
    expect(await coupons.list(roomId)).toEqual([]);
    for (const code of ["ZED", "ALPHA", "MID9"])
      await coupons.pin({ roomId, code, discount: { kind: "percent", percent: 10 }, quota: 5 });
    await coupons.pin({ roomId: other, code: "ELSE", discount: { kind: "percent", percent: 10 }, quota: 5 });
    await claimOf(roomId, "MID9", "u1");
    await coupons.unpin(roomId, "ZED");
    const listed = await coupons.list(roomId);
    expect(listed.map((c) => c.code)).toEqual(["ALPHA", "MID9"]);
    expect(listed[1]).toEqual(await coupons.status(roomId, "MID9"));
    expect(listed[1]).toMatchObject({ claimed: 1, pinned: true });
    // Pinned again: listed again, once, with its counts kept.
    await coupons.pin({ roomId, code: "ZED", discount: { kind: "percent", percent: 20 }, quota: 5 });
    expect((await coupons.list(roomId)).map((c) => c.code)).toEqual(["ALPHA", "MID9", "ZED"]);
    await expect(coupons.list("bad room!")).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("a room holds at most maxPinnedPerRoom pinned coupons; pinning one again or after an unpin is fine", async () => {
    const roomId = room();
    const max = COUPON_LIMITS.maxPinnedPerRoom;
    const pin = (code: string) =>
      coupons.pin({ roomId, code, discount: { kind: "percent", percent: 5 }, quota: 10 });
    const codes = Array.from({ length: max }, (_, i) => `C${String(i).padStart(3, "0")}`);
    await Promise.all(codes.map(pin));
    // In parallel too, the check and the index are one script: exactly the cap is pinned.
    const extra = await Promise.allSettled(["X001", "X002", "X003"].map(pin));
    for (const r of extra)
      expect(r.status === "rejected" && r.reason).toMatchObject({
        code: "INVALID_INPUT",
        details: { reason: "TOO_MANY_PINNED" },
      });
    expect(await coupons.status(roomId, "X001")).toBeNull();
    await expect(pin("C000")).resolves.toMatchObject({ pinned: true });
    await coupons.unpin(roomId, "C001");
    await expect(pin("X001")).resolves.toMatchObject({ pinned: true });
    const listed = (await coupons.list(roomId)).map((c) => c.code);
    expect(listed).toHaveLength(max);
    expect(listed).toEqual([...listed].sort());
    expect(listed).not.toContain("C001");
  });
});

describe("applying and redeeming a claim", () => {
  it("computes the discount from the list total, never above it", async () => {
    const roomId = room();
    await coupons.pin({
      roomId,
      code: "FIVE",
      discount: { kind: "amount", amountMinor: 500, currency: "USD" },
      quota: 10,
      perBuyer: 10,
    });
    await coupons.pin({ roomId, code: "PCT", discount: { kind: "percent", percent: 90 }, quota: 10 });
    const a = await claimOf(roomId, "FIVE", "u");
    const b = await claimOf(roomId, "FIVE", "u");
    const p = await claimOf(roomId, "PCT", "u");
    expect((await coupons.apply(a.claimId, "u", "d1.1", 2_000, "USD")).discountMinor).toBe(500);
    expect((await coupons.apply(b.claimId, "u", "d1.2", 300, "USD")).discountMinor).toBe(300);
    // 90% of the largest total stays exact (no double rounding past 2^53).
    expect((await coupons.apply(p.claimId, "u", "d1.3", 1_000_000_000_000_007, "EUR")).discountMinor).toBe(
      900_000_000_000_006,
    );
  });

  it("refuses another buyer's claim, a second order, the minimum and a currency mismatch", async () => {
    const roomId = room();
    await coupons.pin({
      roomId,
      code: "MIN",
      discount: { kind: "amount", amountMinor: 100, currency: "USD" },
      minOrderMinor: 1_000,
      quota: 10,
    });
    const c = await claimOf(roomId, "MIN", "owner");
    await expect(coupons.apply(c.claimId, "thief", "d2.1", 5_000, "USD")).rejects.toMatchObject({
      code: "COUPON_NOT_FOUND",
    });
    await expect(coupons.apply(c.claimId, "owner", "d2.1", 999, "USD")).rejects.toMatchObject({
      code: "COUPON_NOT_APPLICABLE",
    });
    await expect(coupons.apply(c.claimId, "owner", "d2.1", 5_000, "EUR")).rejects.toMatchObject({
      code: "COUPON_NOT_APPLICABLE",
    });
    await expect(coupons.apply(c.claimId, "owner", "d2.1", 5_000, "USD")).resolves.toMatchObject({
      discountMinor: 100,
    });
    await expect(coupons.apply(c.claimId, "owner", "d2.1", 5_000, "USD")).resolves.toMatchObject({
      discountMinor: 100,
    });
    await expect(coupons.apply(c.claimId, "owner", "d2.2", 5_000, "USD")).rejects.toMatchObject({
      code: "COUPON_NOT_APPLICABLE",
    });
  });

  it("a failed payment gives the claim back; a paid one is redeemed exactly once", async () => {
    const roomId = room();
    await coupons.pin({ roomId, code: "BACK", discount: { kind: "percent", percent: 50 }, quota: 1 });
    const c = await claimOf(roomId, "BACK", "u");
    await coupons.apply(c.claimId, "u", "d3.1", 1_000, "USD");
    expect(await coupons.settle(c.couponId, "d3.1", "back")).toBe("C");
    expect(await coupons.settle(c.couponId, "d3.1", "back")).toBe("none");
    // Given back: usable on another order, still one claim of the quota.
    await coupons.apply(c.claimId, "u", "d3.2", 800, "USD");
    const settled = await Promise.all([
      coupons.settle(c.couponId, "d3.2", "paid"),
      coupons.settle(c.couponId, "d3.2", "paid"),
    ]);
    expect(settled).toEqual(["R", "R"]);
    expect(await coupons.settle(c.couponId, "d3.2", "back")).toBe("R");
    await expect(coupons.apply(c.claimId, "u", "d3.3", 800, "USD")).rejects.toMatchObject({
      code: "COUPON_NOT_APPLICABLE",
    });
    expect(await coupons.status(roomId, "BACK")).toMatchObject({ claimed: 1, redeemed: 1 });
  });
});
