import { useEffect, useState } from "preact/hooks";
import type { CouponStatus, ServerFrame } from "../../../protocol/index.ts";
import type { LiveConnection } from "../shared/connection.ts";
import { randomId } from "../shared/ids.ts";

/**
 * The room's pinned coupons (the `joined` / `resync` snapshot's `coupons`, then `coupon` room
 * frames) and this buyer's claims of them. A claim lives in memory; its idempotency key is kept
 * per coupon in localStorage, so claiming again after a reload answers the same claim.
 */
export interface CouponClaimView {
  readonly claimId: string;
  readonly couponId: string;
  readonly code: string;
}

/** Pinned coupons by code, after one frame (unchanged for a frame of another room or kind). */
export function applyCouponFrame(
  coupons: ReadonlyMap<string, CouponStatus>,
  room: string,
  f: ServerFrame,
): ReadonlyMap<string, CouponStatus> {
  if ((f.t === "joined" || f.t === "resync") && f.room === room) {
    // An older gateway sends no list: keep what is known.
    if (!f.coupons) return coupons;
    return new Map(f.coupons.filter((c) => c.pinned).map((c) => [c.code, c]));
  }
  if (f.t === "coupon" && f.room === room) {
    const next = new Map(coupons);
    if (f.coupon.pinned) next.set(f.coupon.code, f.coupon);
    else next.delete(f.coupon.code);
    return next;
  }
  return coupons;
}

export function useCoupons(conn: LiveConnection, room: string): ReadonlyMap<string, CouponStatus> {
  const [coupons, setCoupons] = useState<ReadonlyMap<string, CouponStatus>>(new Map());
  useEffect(() => conn.onFrame((f) => setCoupons((c) => applyCouponFrame(c, room, f))), [conn, room]);
  return coupons;
}

const KEY_PREFIX = "livedrop.couponKey.";
const claims = new Map<string, CouponClaimView>();
const listeners = new Set<() => void>();

function storage(): Storage | undefined {
  try {
    return localStorage;
  } catch {
    return undefined; // private mode or blocked storage: a reload claims anew
  }
}

/** The idempotency key of this browser's claim of `couponId`: made once, then reused. */
export function claimKey(couponId: string): string {
  const s = storage();
  const saved = s?.getItem(KEY_PREFIX + couponId);
  if (saved) return saved;
  const key = randomId("cpn");
  s?.setItem(KEY_PREFIX + couponId, key);
  return key;
}

export function rememberClaim(c: CouponClaimView): void {
  claims.set(c.couponId, c);
  for (const fn of listeners) fn();
}

/** A claim taken off an order (redeemed): it cannot be used again. */
export function forgetClaim(claimId: string): void {
  for (const [id, c] of claims)
    if (c.claimId === claimId) {
      claims.delete(id);
      // A new claim (where the coupon allows more per buyer) takes a new key.
      storage()?.removeItem(KEY_PREFIX + id);
    }
  for (const fn of listeners) fn();
}

/** This buyer's unused claims, re-rendering when they change. */
export function useClaims(): readonly CouponClaimView[] {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const fn = () => setVersion((v) => v + 1);
    listeners.add(fn);
    return () => {
      listeners.delete(fn);
    };
  }, []);
  return [...claims.values()];
}
