import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Order } from "../../orders/index.ts";
import { OUTBOX_FIELD } from "../../protocol/index.ts";
import { type OrderStack, startOrderStack } from "../harness/order-stack.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

// Orders of every selling format go through the one pipeline (outbox -> relay -> BullMQ -> order
// worker -> store): the order takes the drop's format and the hold's own unit price when it has one.

let redis: PrivateRedis;
let stack: OrderStack;

beforeAll(async () => {
  redis = await startPrivateRedis();
  stack = await startOrderStack({ redisEnv: { REDIS_URL: redis.url }, redisClient: redis.client() });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
});

async function orderOf(reservationId: string): Promise<Order> {
  await expect
    .poll(async () => (await stack.store.get(reservationId)) !== undefined, { timeout: 20_000, interval: 50 })
    .toBe(true);
  return (await stack.store.get(reservationId)) as Order;
}

describe("orders of every selling format", () => {
  it("a timed drop's order is format drop at the list price, nothing off", async () => {
    const def = dropDefinition();
    await stack.engine.createDrop(def);
    const hold = await stack.engine.reserve({
      dropId: def.dropId,
      userId: "ana",
      qty: 2,
      idempotencyKey: key(),
    });
    expect(await orderOf(hold.reservationId)).toMatchObject({
      format: "drop",
      unitPriceMinor: 12_900,
      totalMinor: 25_800,
      couponId: null,
      discountMinor: 0,
      paidMinor: 25_800,
    });
  });

  it("a buy-it-now drop's order records its format", async () => {
    const def = dropDefinition({ format: "buy_now", startsAt: undefined });
    await stack.engine.createDrop(def);
    await stack.engine.pin(def.dropId);
    const hold = await stack.engine.reserve({
      dropId: def.dropId,
      userId: "ben",
      qty: 1,
      idempotencyKey: key(),
    });
    expect(await orderOf(hold.reservationId)).toMatchObject({ format: "buy_now", unitPriceMinor: 12_900 });
  });

  it("a hold placed at its own price (an auction's winner) becomes an order at that price", async () => {
    const def = dropDefinition({ format: "auction", initialStock: 1, perUserLimit: 1 });
    const { status } = await stack.engine.createDrop(def);
    // The hold as the auction's settle script writes it into the drop's outbox.
    const rid = `${def.dropId}.1`;
    const placed = {
      type: "reservation.placed",
      drop: def.dropId,
      room: def.roomId,
      v: status.version + 1,
      at: status.serverTime,
      state: "live",
      available: 0,
      held: 1,
      sold: 0,
      reservation: rid,
      user: "winner",
      qty: 1,
      deadline: status.serverTime + 600_000,
      via: "auction",
      priceMinor: 31_250,
    };
    await stack.engine.connection.xadd(
      stack.engine.keys.drop(def.dropId).outbox,
      "*",
      OUTBOX_FIELD,
      JSON.stringify([placed]),
    );
    expect(await orderOf(rid)).toMatchObject({
      format: "auction",
      userId: "winner",
      unitPriceMinor: 31_250,
      totalMinor: 31_250,
      paidMinor: 31_250,
    });
  });
});
