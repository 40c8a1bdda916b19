import { z } from "zod";
import { countSchema, epochMsSchema } from "./fields.ts";
import { idempotencyKeySchema, roomIdSchema, userIdSchema } from "./ids.ts";
import { priceMinorSchema } from "./quantities.ts";

/**
 * Coupons a host pins in a room: what a pin, a claim and a redemption carry. Money is integer
 * minor units; times are server-clock ms epoch.
 */

export const COUPON_LIMITS = {
  /** Largest percent off (a coupon never gives the unit away). */
  maxPercentOff: 90,
  /** Largest total or per-buyer quota of one coupon. */
  maxQuota: 1_000_000,
  /** Most coupons pinned in one room at once (what a room snapshot carries at most). */
  maxPinnedPerRoom: 32,
} as const;

/** A–Z and 0–9, 3 to 20 characters (what a host reads out on air). */
export const couponCodeSchema = z.string().regex(/^[A-Z0-9]{3,20}$/, "3-20 of A-Z 0-9");

/** `<roomId>.<code>`: one coupon of one room (orders.coupon_id). */
export const couponIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}\.[A-Z0-9]{3,20}$/, "<room>.<code>");

/** `<roomId>.<code>.<n>`: one buyer's claim of a coupon. */
export const couponClaimIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}\.[A-Z0-9]{3,20}\.[1-9][0-9]{0,15}$/, "<room>.<code>.<n>");

const quota = z.number().int().min(1).max(COUPON_LIMITS.maxQuota);

/** Either a fixed amount in one currency or a percent of the order's list total. */
export const couponDiscountSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("amount"),
    amountMinor: priceMinorSchema.refine((n) => n >= 1, "at least 1"),
    currency: z.string().regex(/^[A-Z]{3}$/, "ISO 4217 code, e.g. USD"),
  }),
  z.strictObject({
    kind: z.literal("percent"),
    percent: z.number().int().min(1).max(COUPON_LIMITS.maxPercentOff),
  }),
]);
export type CouponDiscount = z.infer<typeof couponDiscountSchema>;

const couponPinFields = z.strictObject({
  roomId: roomIdSchema,
  code: couponCodeSchema,
  discount: couponDiscountSchema,
  /** Smallest list total (minor, order currency) the coupon applies to; 0: any. */
  minOrderMinor: priceMinorSchema.default(0),
  /** Claims the coupon gives out in all (a claim given back counts no more). */
  quota,
  /** Claims one buyer may hold or have redeemed. */
  perBuyer: quota.default(1),
  /** Claims are refused from this instant on; absent: valid until unpinned. */
  validUntil: epochMsSchema.optional(),
});
const perBuyerWithinQuota = {
  check: (p: { perBuyer: number; quota: number }) => p.perBuyer <= p.quota,
  params: { message: "perBuyer cannot exceed quota", path: ["perBuyer"] },
};

export const couponPinSchema = couponPinFields.refine(perBuyerWithinQuota.check, perBuyerWithinQuota.params);
export type CouponPin = z.input<typeof couponPinSchema>;

export const couponClaimRequestSchema = z.strictObject({
  roomId: roomIdSchema,
  code: couponCodeSchema,
  userId: userIdSchema,
  idempotencyKey: idempotencyKeySchema,
  /** Whether the room is on air now (the gateway knows): a coupon is claimable only then. */
  live: z.boolean(),
});
export type CouponClaimRequest = z.input<typeof couponClaimRequestSchema>;

/** A pinned coupon's terms and counts (HTTP answers, the `coupon` room frame, snapshots). */
export const couponStatusSchema = z.object({
  couponId: couponIdSchema,
  roomId: roomIdSchema,
  code: couponCodeSchema,
  discount: couponDiscountSchema,
  minOrderMinor: priceMinorSchema,
  quota: countSchema,
  perBuyer: countSchema,
  /** null: valid until unpinned. */
  validUntil: epochMsSchema.nullable(),
  pinned: z.boolean(),
  /** Claims out now (held by buyers or redeemed); quota - claimed are left. */
  claimed: countSchema,
  redeemed: countSchema,
});
export type CouponStatus = Readonly<z.infer<typeof couponStatusSchema>>;

export const couponClaimSchema = z.object({
  claimId: couponClaimIdSchema,
  couponId: couponIdSchema,
  userId: userIdSchema,
  /** The claim was made earlier with the same idempotency key. */
  replayed: z.boolean(),
});
export type CouponClaim = Readonly<z.infer<typeof couponClaimSchema>>;

/** What applying a claim to an order's list total gives. */
export interface CouponApplied {
  readonly claimId: string;
  readonly couponId: string;
  readonly discountMinor: number;
}

// The gateway's surface (docs/coupons.md): HTTP bodies and answers, command inputs.

/** POST /api/v1/rooms/:room/coupons: a pin's terms; the room comes from the path. */
export const couponPinBodySchema = couponPinFields
  .omit({ roomId: true })
  .refine(perBuyerWithinQuota.check, perBuyerWithinQuota.params);

/** One coupon of one room: what an unpin names. */
export const couponRefSchema = z.strictObject({ roomId: roomIdSchema, code: couponCodeSchema });

/** A viewer's claim as the gateway takes it: the caller is the user, the gateway knows `live`. */
export const couponClaimInputSchema = couponRefSchema.extend({ idempotencyKey: idempotencyKeySchema });
export type CouponClaimInput = z.infer<typeof couponClaimInputSchema>;

/** POST /api/v1/rooms/:room/coupons/:code/claim */
export const couponClaimBodySchema = couponClaimInputSchema.omit({ roomId: true, code: true });

/** The rooms' coupon listing's input. */
export const couponListInputSchema = z.strictObject({ roomId: roomIdSchema });

/** POST pin and unpin. */
export const couponResponseSchema = z.object({ coupon: couponStatusSchema });
/** GET /api/v1/rooms/:room/coupons: the room's pinned coupons, sorted by code. */
export const couponListResponseSchema = z.object({
  coupons: z.array(couponStatusSchema).max(COUPON_LIMITS.maxPinnedPerRoom),
});
/** POST claim. */
export const couponClaimResponseSchema = z.object({ claim: couponClaimSchema });
