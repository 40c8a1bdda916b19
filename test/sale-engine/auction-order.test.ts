import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Order, SandboxToken } from "../../orders/index.ts";
import { Auctions } from "../../sale-engine/index.ts";
import { type OrderStack, startOrderStack } from "../harness/order-stack.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";
import { dropDefinition, invariant, key, until } from "./fixtures.ts";

// An auction ends in orders through the drops' own pipeline (outbox -> relay -> BullMQ -> order
// worker -> store): the winner's order at the winning price, a runner-up's at their own maximum.

let redis: PrivateRedis;
let stack: OrderStack;
let auctions: Auctions;

beforeAll(async () => {
  redis = await startPrivateRedis();
  stack = await startOrderStack({ redisEnv: { REDIS_URL: redis.url }, redisClient: redis.client() });
  auctions = await Auctions.create({ engine: stack.engine });
}, 180_000);
afterAll(async () => {
  await auctions?.close();
  await stack?.stop();
  await redis?.stop();
});

async function orderOf(reservationId: string): Promise<Order> {
  return until(async () => (await stack.store.get(reservationId)) ?? undefined);
}

describe("auction orders", () => {
  it("the winner's order is at the winning price; an unpaid unit's next order at the runner-up's maximum", async () => {
    const d = dropDefinition();
    const dropId = d.dropId;
    await auctions.open({
      dropId,
      roomId: d.roomId,
      product: { ...d.product, priceMinor: 2_000 },
      startsAt: (await stack.engine.serverTime()) - 10_000 + 3_000,
      durationMs: 10_000,
      increments: [{ fromMinor: 0, stepMinor: 200 }],
      antiSnipeMs: 0,
      suddenDeath: true,
      holdMs: 60_000,
    });
    await auctions.bid({ dropId, userId: "ann", maxMinor: 5_000, idempotencyKey: key() });
    await auctions.bid({ dropId, userId: "bob", maxMinor: 3_000, idempotencyKey: key() });
    const won = await until(async () => {
      const r = await auctions.settle(dropId);
      return r.settled ? r : undefined;
    });
    expect(won).toMatchObject({ winner: "ann", priceMinor: 3_200 });
    expect(await orderOf(won.reservationId ?? "")).toMatchObject({
      format: "auction",
      userId: "ann",
      unitPriceMinor: 3_200,
      totalMinor: 3_200,
    });

    await stack.engine.release(won.reservationId ?? "");
    const [next] = await stack.engine.heldReservations(dropId);
    expect(next).toMatchObject({ userId: "bob" });
    expect(await orderOf(next?.reservationId ?? "")).toMatchObject({
      format: "auction",
      userId: "bob",
      unitPriceMinor: 3_000,
    });
    const paid = await stack.checkout.pay({
      reservationId: next?.reservationId ?? "",
      userId: "bob",
      token: SandboxToken.success,
      idempotencyKey: key(),
    });
    expect(paid).toMatchObject({ status: "paid", paidMinor: 3_000 });
    const drop = await stack.engine.status(dropId);
    expect(drop).toMatchObject({ sold: 1, held: 0, available: 0 });
    invariant(drop);
  });
});
