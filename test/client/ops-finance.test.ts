import { describe, expect, it } from "vitest";
import { financeOf, financeOfInsight } from "../../client/src/host/reports-data.ts";
import type { DropInsight, RoomInsight, RoomSummary } from "../../protocol/index.ts";

const sales = (over: Record<string, unknown>) => ({
  format: "drop",
  currency: "USD",
  orders: 1,
  paidOrders: 1,
  units: 1,
  grossMinor: 0,
  discountMinor: 0,
  netMinor: 0,
  refundedOrders: 0,
  refundedMinor: 0,
  ...over,
});

const dropRow = (over: Record<string, unknown>) => ({
  dropId: "d1",
  roomId: "r1",
  ...sales({}),
  firstOrderAt: "2026-12-01T10:00:00.000Z",
  lastOrderAt: "2026-12-01T10:00:00.000Z",
  viewers: 0,
  buyClicks: 0,
  holds: 0,
  paid: 0,
  ...over,
});

describe("ops and host money figures", () => {
  it("folds the summary's rows per room and per drop: gross, coupon cost and net add up", () => {
    const summary = {
      version: 1,
      roomId: "r1",
      asOf: null,
      totals: [
        { roomId: "r1", drops: 1, ...sales({ grossMinor: 12_900, discountMinor: 500, netMinor: 12_400 }) },
        { roomId: "r1", drops: 1, ...sales({ format: "auction", grossMinor: 3_000, netMinor: 3_000 }) },
      ],
      drops: [
        dropRow({ grossMinor: 12_900, discountMinor: 500, netMinor: 12_400 }),
        dropRow({ dropId: "a1", format: "auction", grossMinor: 3_000, netMinor: 3_000 }),
      ],
      coupons: [],
    } as RoomSummary;
    const f = financeOf(summary);
    expect(f.totals).toEqual({ currency: "USD", grossMinor: 15_900, discountMinor: 500, netMinor: 15_400 });
    expect(f.drops.get("d1")).toEqual({
      currency: "USD",
      grossMinor: 12_900,
      discountMinor: 500,
      netMinor: 12_400,
    });
    expect(f.drops.get("a1")?.netMinor).toBe(3_000);
  });

  it("keeps the first currency's figures when a room sold in two; an empty summary has none", () => {
    const summary = {
      version: 1,
      roomId: "r1",
      asOf: null,
      totals: [
        { roomId: "r1", drops: 1, ...sales({ grossMinor: 100, netMinor: 100 }) },
        { roomId: "r1", drops: 1, ...sales({ currency: "CNY", grossMinor: 900, netMinor: 900 }) },
      ],
      drops: [],
      coupons: [],
    } as RoomSummary;
    expect(financeOf(summary).totals).toEqual({
      currency: "USD",
      grossMinor: 100,
      discountMinor: 0,
      netMinor: 100,
    });
    expect(financeOf({ ...summary, totals: [] }).totals).toBeUndefined();
  });

  it("reads the ops wall's figures from the live insight: per drop with paid orders, totals in the first currency", () => {
    const drop = (over: Partial<DropInsight>): DropInsight => ({
      dropId: "d1",
      title: "Jacket",
      state: "live",
      format: "drop",
      priceMinor: 12_900,
      currency: "USD",
      stock: 5,
      available: 4,
      held: 0,
      sold: 1,
      buyClicks: 1,
      entries: 0,
      holds: 1,
      paidOrders: 1,
      unitsSold: 1,
      gmvMinor: 12_900,
      netGmvMinor: 12_400,
      couponCostMinor: 500,
      expiredUnits: 0,
      startsAt: 0,
      ...over,
    });
    const room: RoomInsight = {
      room: "r1",
      serverTime: 0,
      viewers: 3,
      drops: [
        drop({}),
        drop({
          dropId: "a1",
          format: "auction",
          paidOrders: 0,
          gmvMinor: 0,
          netGmvMinor: 0,
          couponCostMinor: 0,
        }),
      ],
      totals: {
        buyClicks: 2,
        entries: 0,
        holds: 1,
        paidOrders: 1,
        unitsSold: 1,
        expiredUnits: 0,
        gmv: [{ currency: "USD", minor: 12_900 }],
        netGmv: [{ currency: "USD", minor: 12_400 }],
        couponCost: [{ currency: "USD", minor: 500 }],
      },
      conversion: 1,
    };
    const f = financeOfInsight(room);
    expect(f.totals).toEqual({ currency: "USD", grossMinor: 12_900, discountMinor: 500, netMinor: 12_400 });
    expect(f.drops.get("d1")).toEqual({
      currency: "USD",
      grossMinor: 12_900,
      discountMinor: 500,
      netMinor: 12_400,
    });
    expect(f.drops.has("a1")).toBe(false);
    expect(f.formats.get("a1")).toBe("auction");
    expect(financeOfInsight({ ...room, totals: { ...room.totals, gmv: [] } }).totals).toBeUndefined();
  });
});
