import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError, ErrorCode } from "../../core/index.ts";
import { SandboxToken } from "../../orders/index.ts";
import { type OrderStack, startOrderStack } from "../harness/order-stack.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

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

describe("payment idempotency keys belong to the payer", () => {
  it("two buyers paying with the same idempotency key both pay; one charge each", async () => {
    const def = dropDefinition({ initialStock: 2, perUserLimit: 1 });
    await stack.engine.createDrop(def);
    const shared = "checkout-attempt-1";
    const holds = await Promise.all(
      ["ana", "ben"].map((userId) =>
        stack.engine.reserve({ dropId: def.dropId, userId, qty: 1, idempotencyKey: key() }),
      ),
    );
    const paid = await Promise.all(
      holds.map((h) =>
        stack.checkout.pay({
          reservationId: h.reservationId,
          userId: h.userId,
          token: SandboxToken.success,
          idempotencyKey: shared,
        }),
      ),
    );
    expect(paid.map((o) => o.status)).toEqual(["paid", "paid"]);
    expect(new Set(paid.map((o) => o.paymentRef)).size).toBe(2);
    for (const h of holds) {
      expect((await stack.engine.reservation(h.reservationId)).status).toBe("confirmed");
      expect(await stack.store.paymentAttempt(h.userId, shared)).toMatchObject({
        reservationId: h.reservationId,
        status: "succeeded",
      });
    }
    expect(await stack.engine.status(def.dropId)).toMatchObject({ sold: 2, held: 0 });
  });

  it("the same buyer reusing a key for another order gets a conflict, and nothing is charged for it", async () => {
    const def = dropDefinition({ initialStock: 3, perUserLimit: 2 });
    await stack.engine.createDrop(def);
    const first = await stack.engine.reserve({
      dropId: def.dropId,
      userId: "cam",
      qty: 1,
      idempotencyKey: key(),
    });
    const second = await stack.engine.reserve({
      dropId: def.dropId,
      userId: "cam",
      qty: 1,
      idempotencyKey: key(),
    });
    const reused = "cam-pay-1";
    const pay = (reservationId: string) =>
      stack.checkout.pay({
        reservationId,
        userId: "cam",
        token: SandboxToken.success,
        idempotencyKey: reused,
      });
    expect((await pay(first.reservationId)).status).toBe("paid");
    const err = await pay(second.reservationId).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: ErrorCode.IDEMPOTENCY_KEY_REUSED });
    expect((await stack.engine.reservation(second.reservationId)).status).toBe("held");
    expect(await stack.store.paymentAttempts(second.reservationId)).toEqual([]);
    // The same key for the same order is a replay, not a conflict.
    expect((await pay(first.reservationId)).status).toBe("paid");
  });
});
