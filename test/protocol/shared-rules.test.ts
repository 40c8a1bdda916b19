import { describe, expect, it } from "vitest";
import { newOrderSchema } from "../../orders/index.ts";
import {
  buyQtySchema,
  chatTextSchema,
  clientFrameSchema,
  DROP_STATES,
  displayNameSchema,
  dropDefinitionSchema,
  dropSnapshotSchema,
  paymentTokenSchema,
  productSchema,
  restockQtySchema,
  SALE_LIMITS,
} from "../../protocol/index.ts";
import { LIMITS, reserveRequestSchema } from "../../sale-engine/index.ts";

// Each rule is written once in protocol/; the wire, the sale engine and the order store all
// answer the same for the same input.

const product = {
  sku: "sku-1",
  title: "Mug",
  priceMinor: 1_200,
  currency: "USD",
  imageUrl: "https://example.test/mug.png",
};

describe("one text rule for what other people read", () => {
  const bad = ["a\nb", "a\tb", "a\u0000b", "a\u0085b", "a\ud800b"];

  it("chat text, display names and product titles refuse the same control characters", () => {
    for (const text of bad) {
      expect(chatTextSchema.safeParse(text).success, JSON.stringify(text)).toBe(false);
      expect(displayNameSchema.safeParse(text).success, JSON.stringify(text)).toBe(false);
      expect(productSchema.safeParse({ ...product, title: text }).success, JSON.stringify(text)).toBe(false);
    }
    for (const ok of ["Mug", "Tasse à café", "杯子 ☕"]) {
      expect(chatTextSchema.safeParse(ok).success).toBe(true);
      expect(displayNameSchema.safeParse(ok).success).toBe(true);
      expect(productSchema.safeParse({ ...product, title: ok }).success).toBe(true);
    }
  });
});

describe("one set of quantity bounds", () => {
  const buy = (qty: number) => ({ t: "buy", reqId: "r1", dropId: "d1", qty, idempotencyKey: "k1" });
  const reserve = (qty: number) => ({ dropId: "d1", userId: "u1", qty, idempotencyKey: "k1" });
  const order = (qty: number) => ({
    reservationId: "d1.1",
    dropId: "d1",
    roomId: "r1",
    userId: "u1",
    sku: "sku-1",
    title: "Mug",
    qty,
    unitPriceMinor: 100,
    currency: "USD",
    holdDeadline: 1,
  });

  it("a buy frame, a reserve request and a new order agree on the largest buy", () => {
    for (const [qty, ok] of [
      [SALE_LIMITS.maxBuyQty, true],
      [SALE_LIMITS.maxBuyQty + 1, false],
      [0, false],
    ] as const) {
      expect(buyQtySchema.safeParse(qty).success).toBe(ok);
      expect(clientFrameSchema.safeParse(buy(qty)).success).toBe(ok);
      expect(reserveRequestSchema.safeParse(reserve(qty)).success).toBe(ok);
      expect(newOrderSchema.safeParse(order(qty)).success).toBe(ok);
    }
  });

  it("a restock frame and a drop's initial stock share the stock ceiling", () => {
    const restock = (qty: number) => ({
      t: "host",
      reqId: "r1",
      room: "r1",
      action: { kind: "restock", dropId: "d1", qty },
    });
    const drop = (initialStock: number) => ({
      dropId: "d1",
      roomId: "r1",
      product,
      initialStock,
      perUserLimit: 1,
      holdMs: 60_000,
    });
    expect(restockQtySchema.safeParse(SALE_LIMITS.maxStock).success).toBe(true);
    expect(clientFrameSchema.safeParse(restock(SALE_LIMITS.maxStock)).success).toBe(true);
    expect(clientFrameSchema.safeParse(restock(SALE_LIMITS.maxStock + 1)).success).toBe(false);
    expect(dropDefinitionSchema.safeParse(drop(SALE_LIMITS.maxStock)).success).toBe(true);
    expect(dropDefinitionSchema.safeParse(drop(SALE_LIMITS.maxStock + 1)).success).toBe(false);
    expect(LIMITS.maxStock).toBe(SALE_LIMITS.maxStock);
    expect(LIMITS.maxPerUserLimit).toBe(SALE_LIMITS.maxBuyQty);
  });
});

describe("one payment token rule", () => {
  it("the pay frame takes exactly the tokens the schema takes", () => {
    const pay = (token: string) => ({
      t: "pay",
      reqId: "r1",
      reservationId: "d1.1",
      token,
      idempotencyKey: "k1",
    });
    for (const token of ["tok_success", "x".repeat(64), "", "x".repeat(65), "tok-declined", "tok success"]) {
      expect(clientFrameSchema.safeParse(pay(token)).success, token).toBe(
        paymentTokenSchema.safeParse(token).success,
      );
    }
  });
});

describe("one list of drop states", () => {
  it("a drop snapshot carries every state of the list and nothing else", () => {
    const snapshot = (state: string) => ({
      dropId: "d1",
      roomId: "r1",
      product,
      state,
      startsAt: 0,
      endsAt: null,
      perUserLimit: 1,
      holdMs: 60_000,
      available: 1,
      held: 0,
      sold: 0,
      v: 1,
    });
    const refused = DROP_STATES.filter((s) => !dropSnapshotSchema.safeParse(snapshot(s)).success);
    expect(refused).toEqual([]);
    expect(dropSnapshotSchema.safeParse(snapshot("closed")).success).toBe(false);
  });
});
