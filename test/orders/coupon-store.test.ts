import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NewOrder, OrderStore, type StoreTarget } from "../../orders/index.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";

// The order store's coupon columns (migration 005) and the finance figures over them, on both
// back ends: PGlite in a temporary folder and a private PostgreSQL server.

let seq = 0;
const ids = () => {
  seq += 1;
  return { dropId: `cdrop-${seq}-${process.pid}`, roomId: `croom-${seq}-${process.pid}` };
};

function newOrder(dropId: string, roomId: string, n: number, over: Partial<NewOrder> = {}): NewOrder {
  return {
    reservationId: `${dropId}.${n}`,
    dropId,
    roomId,
    userId: `buyer${n}`,
    sku: "SKU-1",
    title: "Sneaker",
    qty: 1,
    unitPriceMinor: 1_000,
    currency: "USD",
    holdDeadline: Date.now() + 60_000,
    ...over,
  };
}

const backends: { name: string; open: () => Promise<StoreTarget>; close: () => Promise<void> }[] = [
  (() => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-coupon-store-"));
    return {
      name: "PGlite",
      open: async () => ({ kind: "pglite", dataDir: path.join(dir, "orders") }) as const,
      close: async () => rmSync(dir, { recursive: true, force: true }),
    };
  })(),
  (() => {
    let server: PrivatePostgres | undefined;
    return {
      name: "PostgreSQL",
      open: async () => {
        server = await startPrivatePostgres();
        return { kind: "pg", url: await server.createDatabase("coupons") } as const;
      },
      close: async () => {
        await server?.stop();
      },
    };
  })(),
];

describe.each(backends)("order coupons on $name", (backend) => {
  let store: OrderStore;

  beforeAll(async () => {
    store = await OrderStore.open(await backend.open());
  }, 180_000);
  afterAll(async () => {
    await store?.close();
    await backend.close();
  });

  it("records the format, the coupon and its discount; paid_minor is what is left", async () => {
    const { dropId, roomId } = ids();
    const { order } = await store.createOrder(newOrder(dropId, roomId, 1, { qty: 3, format: "auction" }));
    expect(order).toMatchObject({ format: "auction", couponId: null, discountMinor: 0, paidMinor: 3_000 });
    const coupon = `${roomId}.SAVE`;
    expect(
      await store.applyCoupon({ reservationId: order.reservationId, couponId: coupon, discountMinor: 400 }),
    ).toMatchObject({ couponId: coupon, discountMinor: 400, paidMinor: 2_600, totalMinor: 3_000 });
    // Never above the list total.
    expect(
      await store.applyCoupon({ reservationId: order.reservationId, couponId: coupon, discountMinor: 9_999 }),
    ).toMatchObject({ discountMinor: 3_000, paidMinor: 0 });
    await expect(
      store.applyCoupon({
        reservationId: order.reservationId,
        couponId: `${roomId}.OTHER`,
        discountMinor: 1,
      }),
    ).rejects.toMatchObject({ code: "COUPON_NOT_APPLICABLE" });
    expect(await store.clearCoupon(order.reservationId, coupon)).toMatchObject({
      couponId: null,
      discountMinor: 0,
    });
    await store.transition(order.reservationId, "paid", { reason: "test" });
    await expect(
      store.applyCoupon({ reservationId: order.reservationId, couponId: coupon, discountMinor: 1 }),
    ).rejects.toMatchObject({ code: "ORDER_STATE_CONFLICT" });
  });

  it("net GMV and coupon cost count paid orders only, per currency", async () => {
    const { dropId, roomId } = ids();
    const eur = `${dropId}e`;
    const orders = [
      newOrder(dropId, roomId, 1, { qty: 2 }),
      newOrder(dropId, roomId, 2),
      newOrder(dropId, roomId, 3),
      newOrder(eur, roomId, 1, { currency: "EUR", unitPriceMinor: 5_000 }),
    ];
    for (const o of orders) await store.createOrder(o);
    const discounts = [300, 100, 250, 1_000];
    for (const [i, o] of orders.entries())
      await store.applyCoupon({
        reservationId: o.reservationId,
        couponId: `${roomId}.DEAL`,
        discountMinor: discounts[i] ?? 0,
      });
    for (const o of [orders[0], orders[1], orders[3]])
      await store.transition(o?.reservationId ?? "", "paid", { reason: "test" });
    // orders[2] expires: its discount is no cost.
    await store.transition(orders[2]?.reservationId ?? "", "expired", { reason: "test" });
    expect(await store.dropSummary(dropId)).toMatchObject({
      gmvMinor: 3_000,
      netGmvMinor: 2_600,
      couponCostMinor: 400,
      currency: "USD",
    });
    expect(await store.roomTotals(roomId)).toMatchObject({
      gmv: [
        { currency: "EUR", minor: 5_000 },
        { currency: "USD", minor: 3_000 },
      ],
      netGmv: [
        { currency: "EUR", minor: 4_000 },
        { currency: "USD", minor: 2_600 },
      ],
      couponCost: [
        { currency: "EUR", minor: 1_000 },
        { currency: "USD", minor: 400 },
      ],
    });
  });

  it("bad input is a typed error and writes nothing", async () => {
    const { dropId, roomId } = ids();
    await expect(
      store.createOrder(newOrder(dropId, roomId, 1, { format: "lottery" as never })),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    const { order } = await store.createOrder(newOrder(dropId, roomId, 2));
    for (const bad of [
      { reservationId: order.reservationId, couponId: "no-dot", discountMinor: 1 },
      { reservationId: order.reservationId, couponId: `${roomId}.OK1`, discountMinor: -1 },
    ])
      await expect(store.applyCoupon(bad)).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(
      store.applyCoupon({ reservationId: `${dropId}.99`, couponId: `${roomId}.OK1`, discountMinor: 1 }),
    ).rejects.toMatchObject({ code: "ORDER_NOT_FOUND" });
    expect(await store.get(order.reservationId)).toMatchObject({ couponId: null, discountMinor: 0 });
  });
});
