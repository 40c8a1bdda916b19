import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLivedropError } from "../../core/index.ts";
import { type Order, SandboxToken } from "../../orders/index.ts";
import { Coupons } from "../../sale-engine/index.ts";
import { type OrderStack, startOrderStack } from "../harness/order-stack.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

let redis: PrivateRedis;
let stack: OrderStack;
let coupons: Coupons;
let rooms = 0;

beforeAll(async () => {
  redis = await startPrivateRedis();
  stack = await startOrderStack({
    redisEnv: { REDIS_URL: redis.url },
    redisClient: redis.client(),
    reconcileMs: 500,
  });
  coupons = new Coupons({ redis: stack.engine.connection, prefix: stack.engine.keys.prefix });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
});

/** A room with one drop (12,900 USD minor a unit) and a pinned coupon `code`. */
async function roomWithCoupon(
  code: string,
  discount: Parameters<Coupons["pin"]>[0]["discount"],
  holdMs = 60_000,
) {
  const roomId = `coupon-room-${++rooms}`;
  const def = dropDefinition({ roomId, initialStock: 10, perUserLimit: 5, holdMs });
  await stack.engine.createDrop(def);
  await coupons.pin({ roomId, code, discount, quota: 5 });
  return { roomId, def };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (isLivedropError(err)) return err.code;
    throw err;
  }
}

async function orderWhen(reservationId: string, check: (o: Order) => boolean): Promise<Order> {
  await expect
    .poll(
      async () => {
        const o = await stack.store.get(reservationId);
        return o !== undefined && check(o);
      },
      { timeout: 20_000, interval: 50 },
    )
    .toBe(true);
  return (await stack.store.get(reservationId)) as Order;
}

describe("checkout with a coupon", () => {
  it("takes the discount off the list total at payment; finance shows gross, net and coupon cost", async () => {
    const { roomId, def } = await roomWithCoupon("SAVE5", {
      kind: "amount",
      amountMinor: 500,
      currency: "USD",
    });
    const hold = await stack.engine.reserve({
      dropId: def.dropId,
      userId: "ana",
      qty: 2,
      idempotencyKey: key(),
    });
    const claim = await coupons.claim({
      roomId,
      code: "SAVE5",
      userId: "ana",
      idempotencyKey: key(),
      live: true,
    });
    const paid = await stack.checkout.pay({
      reservationId: hold.reservationId,
      userId: "ana",
      token: SandboxToken.success,
      idempotencyKey: key(),
      couponClaimId: claim.claimId,
    });
    expect(paid).toMatchObject({
      status: "paid",
      totalMinor: 25_800,
      couponId: `${roomId}.SAVE5`,
      discountMinor: 500,
      paidMinor: 25_300,
    });
    const [attempt] = await stack.store.paymentAttempts(hold.reservationId);
    expect(attempt).toMatchObject({ status: "succeeded", amountMinor: 25_300 });
    expect(await coupons.status(roomId, "SAVE5")).toMatchObject({ claimed: 1, redeemed: 1 });

    // A second buyer without a coupon: full price.
    const other = await stack.engine.reserve({
      dropId: def.dropId,
      userId: "ben",
      qty: 1,
      idempotencyKey: key(),
    });
    await stack.checkout.pay({
      reservationId: other.reservationId,
      userId: "ben",
      token: SandboxToken.success,
      idempotencyKey: key(),
    });
    await orderWhen(other.reservationId, (o) => o.status === "paid");
    expect(await stack.store.dropSummary(def.dropId)).toMatchObject({
      paidOrders: 2,
      gmvMinor: 38_700,
      netGmvMinor: 38_200,
      couponCostMinor: 500,
      currency: "USD",
    });
    expect(await stack.store.roomTotals(roomId)).toMatchObject({
      gmv: [{ currency: "USD", minor: 38_700 }],
      netGmv: [{ currency: "USD", minor: 38_200 }],
      couponCost: [{ currency: "USD", minor: 500 }],
    });
  });

  it("a declined payment gives the claim back; the retry with it pays discounted, redeemed once", async () => {
    const { roomId, def } = await roomWithCoupon("HALF", { kind: "percent", percent: 50 });
    const hold = await stack.engine.reserve({
      dropId: def.dropId,
      userId: "cy",
      qty: 1,
      idempotencyKey: key(),
    });
    const claim = await coupons.claim({
      roomId,
      code: "HALF",
      userId: "cy",
      idempotencyKey: key(),
      live: true,
    });
    const pay = (token: string) =>
      stack.checkout.pay({
        reservationId: hold.reservationId,
        userId: "cy",
        token,
        idempotencyKey: key(),
        couponClaimId: claim.claimId,
      });
    expect(await codeOf(pay(SandboxToken.declined))).toBe("PAYMENT_DECLINED");
    expect(await stack.store.get(hold.reservationId)).toMatchObject({ couponId: null, discountMinor: 0 });
    expect(await pay(SandboxToken.success)).toMatchObject({
      status: "paid",
      discountMinor: 6_450,
      paidMinor: 6_450,
    });
    expect(await coupons.status(roomId, "HALF")).toMatchObject({ claimed: 1, redeemed: 1 });

    // Redeemed: the same claim on another order is refused, and nothing is charged for it.
    const next = await stack.engine.reserve({
      dropId: def.dropId,
      userId: "cy",
      qty: 1,
      idempotencyKey: key(),
    });
    expect(
      await codeOf(
        stack.checkout.pay({
          reservationId: next.reservationId,
          userId: "cy",
          token: SandboxToken.success,
          idempotencyKey: key(),
          couponClaimId: claim.claimId,
        }),
      ),
    ).toBe("COUPON_NOT_APPLICABLE");
    expect(await stack.store.paymentAttempts(next.reservationId)).toEqual([]);
  });

  it("another buyer's claim is not found, and an expired hold gives the claim back", async () => {
    const { roomId, def } = await roomWithCoupon("BACK10", { kind: "percent", percent: 10 }, 1_000);
    const claim = await coupons.claim({
      roomId,
      code: "BACK10",
      userId: "dee",
      idempotencyKey: key(),
      live: true,
    });
    const theirs = await stack.engine.reserve({
      dropId: def.dropId,
      userId: "eve",
      qty: 1,
      idempotencyKey: key(),
    });
    expect(
      await codeOf(
        stack.checkout.pay({
          reservationId: theirs.reservationId,
          userId: "eve",
          token: SandboxToken.success,
          idempotencyKey: key(),
          couponClaimId: claim.claimId,
        }),
      ),
    ).toBe("COUPON_NOT_FOUND");

    // The provider times out: the claim stays on the order until the hold expires unpaid.
    const hold = await stack.engine.reserve({
      dropId: def.dropId,
      userId: "dee",
      qty: 1,
      idempotencyKey: key(),
    });
    expect(
      await codeOf(
        stack.checkout.pay({
          reservationId: hold.reservationId,
          userId: "dee",
          token: SandboxToken.timeout,
          idempotencyKey: key(),
          couponClaimId: claim.claimId,
        }),
      ),
    ).toBe("PAYMENT_TIMEOUT");
    expect(await stack.store.get(hold.reservationId)).toMatchObject({ discountMinor: 1_290 });
    await orderWhen(hold.reservationId, (o) => o.status === "expired");
    // Given back by the order worker: it applies to the buyer's next order.
    const again = await stack.engine.reserve({
      dropId: def.dropId,
      userId: "dee",
      qty: 1,
      idempotencyKey: key(),
    });
    await expect
      .poll(
        () =>
          coupons.apply(claim.claimId, "dee", again.reservationId, 12_900, "USD").then(
            (a) => a.discountMinor,
            (e: { code: string }) => e.code,
          ),
        { timeout: 20_000, interval: 100 },
      )
      .toBe(1_290);
    expect(await coupons.status(roomId, "BACK10")).toMatchObject({ claimed: 1, redeemed: 0 });
  });
});
