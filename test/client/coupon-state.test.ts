import { describe, expect, it } from "vitest";
import { applyCouponFrame } from "../../client/src/live/coupon-state.ts";
import type { CouponStatus, ServerFrame } from "../../protocol/index.ts";

const coupon = (over: Partial<CouponStatus> = {}): CouponStatus => ({
  couponId: "r1.SAVE5",
  roomId: "r1",
  code: "SAVE5",
  discount: { kind: "amount", amountMinor: 500, currency: "USD" },
  minOrderMinor: 0,
  quota: 10,
  perBuyer: 1,
  validUntil: null,
  pinned: true,
  claimed: 0,
  redeemed: 0,
  ...over,
});

const joined = (coupons?: CouponStatus[]): ServerFrame =>
  ({
    t: "joined",
    room: "r1",
    o: "0-0",
    e: "e1",
    serverTime: 1,
    viewers: 1,
    drops: [],
    chat: [],
    ...(coupons ? { coupons } : {}),
  }) as unknown as ServerFrame;

describe("viewer coupon state", () => {
  it("the joined snapshot sets the pinned coupons; a coupon frame pins, updates and unpins one", () => {
    let s = applyCouponFrame(new Map(), "r1", joined([coupon(), coupon({ code: "GONE", pinned: false })]));
    expect([...s.keys()]).toEqual(["SAVE5"]);
    s = applyCouponFrame(s, "r1", { t: "coupon", room: "r1", coupon: coupon({ code: "TEN", claimed: 2 }) });
    expect(s.get("TEN")?.claimed).toBe(2);
    s = applyCouponFrame(s, "r1", { t: "coupon", room: "r1", coupon: coupon({ claimed: 3 }) });
    expect(s.get("SAVE5")?.claimed).toBe(3);
    s = applyCouponFrame(s, "r1", { t: "coupon", room: "r1", coupon: coupon({ pinned: false }) });
    expect([...s.keys()]).toEqual(["TEN"]);
  });

  it("frames of another room, and a snapshot without a coupon list (an older gateway), change nothing", () => {
    const s = applyCouponFrame(new Map(), "r1", joined([coupon()]));
    expect(applyCouponFrame(s, "r1", { t: "coupon", room: "r2", coupon: coupon({ roomId: "r2" }) })).toBe(s);
    expect(applyCouponFrame(s, "r1", joined())).toBe(s);
  });
});
