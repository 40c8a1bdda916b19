import { z } from "zod";
import {
  buyQtySchema,
  couponIdSchema,
  type DropFormat,
  dropFormatSchema,
  dropIdSchema,
  ORDER_STATUSES,
  priceMinorSchema,
  productSchema,
  reservationIdSchema,
  roomIdSchema,
  SALE_LIMITS,
  userIdSchema,
  type WireOrderStatus,
} from "../../protocol/index.ts";

/**
 * Order store inputs (zod) and outputs. Ids and quantities use protocol's schemas (the sale engine's too), so an id the
 * engine accepted is always accepted here. Times are ms since the epoch; money is integer minor
 * units (cents), bounded so that qty x price stays a safe JavaScript integer.
 */
/** The wire's list: the order frame carries these statuses as they are stored. */
export { ORDER_STATUSES };
export type OrderStatus = WireOrderStatus;

/** The only moves an order may make; anything else is ORDER_STATE_CONFLICT. */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending_payment: ["paid", "expired", "cancelled"],
  paid: ["refunded"],
  expired: [],
  cancelled: [],
  refunded: [],
};

/**
 * A payment attempt's steps: `started` (recorded before the provider is called: outcome unknown
 * until it answers) -> `captured` (money taken, hold not yet confirmed) -> `succeeded` (the
 * capture pays the order; one per order) or `refunded` (given back: deadline passed, hold
 * released, another capture paid the order, or the paid order was refunded). `declined` and
 * `timeout` (the provider holds no capture under the key, as far as we know) end an attempt
 * with nothing charged.
 */
export const PAYMENT_ATTEMPT_STATUSES = [
  "started",
  "captured",
  "succeeded",
  "refunded",
  "declined",
  "timeout",
] as const;
export type PaymentAttemptStatus = (typeof PAYMENT_ATTEMPT_STATUSES)[number];

/** Which steps may follow which; anything else leaves the attempt as it is. */
export const PAYMENT_ATTEMPT_MOVES: Readonly<Record<PaymentAttemptStatus, readonly PaymentAttemptStatus[]>> =
  {
    started: ["captured", "declined", "timeout"],
    // A timeout the provider later reports captured after all.
    timeout: ["captured", "declined"],
    captured: ["succeeded", "refunded"],
    succeeded: ["refunded"],
    refunded: [],
    declined: [],
  };

export const ORDER_LIMITS = {
  maxQty: SALE_LIMITS.maxBuyQty,
  maxUnitPriceMinor: SALE_LIMITS.maxPriceMinor,
  /** maxQty x maxUnitPriceMinor = 1e15 < 2^53. */
  maxAmountMinor: SALE_LIMITS.maxBuyQty * SALE_LIMITS.maxPriceMinor,
  /** Up to year 9999, the range PostgreSQL and Date.toISOString() agree on. */
  maxEpochMs: 253_402_300_799_999,
  maxListLimit: 500,
  defaultListLimit: 50,
  /** Orders one keyset page of a drop holds at most (the audit API asks one more than it shows). */
  maxDropPage: 1_000,
  maxExistingIds: 10_000,
  /** Serialized size of an event's details. */
  maxDetailsBytes: 8_192,
  /** Unfinished payment attempts one reconciler scan returns at most. */
  maxUnfinishedScan: 1_000,
} as const;

const epochMs = z.number().int().min(0).max(ORDER_LIMITS.maxEpochMs);
const currency = productSchema.shape.currency;
const shortText = z.string().min(1).max(200);
const orderStatus = z.enum(ORDER_STATUSES);

export const newOrderSchema = z.strictObject({
  reservationId: reservationIdSchema,
  dropId: dropIdSchema,
  roomId: roomIdSchema,
  userId: userIdSchema,
  sku: productSchema.shape.sku,
  title: productSchema.shape.title,
  qty: buyQtySchema,
  unitPriceMinor: priceMinorSchema,
  currency,
  /** Payment deadline of the hold, ms epoch. */
  holdDeadline: epochMs,
  /** How the drop sells (the drop's `format`). */
  format: dropFormatSchema.default("drop"),
});
export type NewOrder = z.input<typeof newOrderSchema>;

const detailsSchema = z.record(z.string(), z.unknown()).refine((d) => {
  try {
    return Buffer.byteLength(JSON.stringify(d)) <= ORDER_LIMITS.maxDetailsBytes;
  } catch {
    return false;
  }
}, `JSON-serialisable, at most ${ORDER_LIMITS.maxDetailsBytes} bytes`);

export const orderCouponSchema = z.strictObject({
  reservationId: reservationIdSchema,
  couponId: couponIdSchema,
  /** Taken off the list total; the store refuses more than the total. */
  discountMinor: z.number().int().min(0).max(ORDER_LIMITS.maxAmountMinor),
});
export type OrderCoupon = z.input<typeof orderCouponSchema>;

export const transitionSchema = z
  .strictObject({
    reservationId: reservationIdSchema,
    to: orderStatus,
    reason: shortText,
    paymentRef: shortText.optional(),
    details: detailsSchema.optional(),
  })
  .refine((t) => t.paymentRef === undefined || t.to === "paid", {
    message: "paymentRef is only kept when the order becomes paid (put other references in details)",
    path: ["paymentRef"],
  });
export interface TransitionOptions {
  /** Why (`payment_succeeded`, `hold_expired`, `buyer_cancelled`, ...); kept in the event. */
  readonly reason: string;
  /** Provider reference; stored on the order when it becomes paid. */
  readonly paymentRef?: string;
  readonly details?: Record<string, unknown>;
}

export const orderFilterSchema = z.strictObject({
  dropId: dropIdSchema.optional(),
  roomId: roomIdSchema.optional(),
  userId: userIdSchema.optional(),
  status: orderStatus.optional(),
  limit: z.number().int().min(1).max(ORDER_LIMITS.maxListLimit).default(ORDER_LIMITS.defaultListLimit),
});
export type OrderFilter = z.input<typeof orderFilterSchema>;

export const dropPageSchema = z.strictObject({
  dropId: dropIdSchema,
  /** The last reservation id of the previous page. */
  after: reservationIdSchema.optional(),
  limit: z.number().int().min(1).max(ORDER_LIMITS.maxDropPage).default(ORDER_LIMITS.defaultListLimit),
});
export type DropPage = z.input<typeof dropPageSchema>;

export const reservationIdListSchema = z.array(reservationIdSchema).max(ORDER_LIMITS.maxExistingIds);

export const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:@-]{1,200}$/, "1-200 of A-Z a-z 0-9 _ . : @ -");

export const newPaymentAttemptSchema = z.strictObject({
  reservationId: reservationIdSchema,
  idempotencyKey: idempotencyKeySchema,
  status: z.enum(PAYMENT_ATTEMPT_STATUSES),
  providerRef: shortText.optional(),
  amountMinor: z.number().int().min(0).max(ORDER_LIMITS.maxAmountMinor),
  currency,
  errorCode: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "1-64 of A-Z a-z 0-9 _ . : -")
    .optional(),
});
export type NewPaymentAttempt = z.input<typeof newPaymentAttemptSchema>;

export const attemptAdvanceSchema = z.strictObject({
  id: z.number().int().min(1),
  from: z.array(z.enum(PAYMENT_ATTEMPT_STATUSES)).min(1),
  to: z.enum(PAYMENT_ATTEMPT_STATUSES),
  providerRef: shortText.optional(),
  refundRef: shortText.optional(),
  errorCode: newPaymentAttemptSchema.shape.errorCode,
  /** Records that the provider was asked about this attempt. */
  checked: z.boolean().optional(),
});
export type AttemptAdvance = z.input<typeof attemptAdvanceSchema>;

export const unfinishedScanSchema = z.strictObject({
  /** Only attempts whose last step is at least this old, ms (younger ones may be in flight). */
  olderThanMs: z.number().int().min(0).max(ORDER_LIMITS.maxEpochMs),
  limit: z.number().int().min(1).max(ORDER_LIMITS.maxUnfinishedScan),
});
export type UnfinishedScan = z.input<typeof unfinishedScanSchema>;

/** What settling a captured attempt decided. */
export type SettleOutcome =
  /** The capture pays the order (`changed`: the order became paid just now). */
  | {
      readonly outcome: "paid";
      readonly order: Order;
      readonly changed: boolean;
      readonly attempt: PaymentAttempt;
    }
  /** The order is paid by another capture or is no longer payable: refund this one. */
  | { readonly outcome: "refund"; readonly order: Order; readonly attempt: PaymentAttempt };

export interface Order {
  readonly reservationId: string;
  readonly dropId: string;
  readonly roomId: string;
  readonly userId: string;
  readonly sku: string;
  readonly title: string;
  readonly qty: number;
  readonly unitPriceMinor: number;
  /** qty x unitPriceMinor (the list total). */
  readonly totalMinor: number;
  readonly currency: string;
  /** How it was sold: the drop's format. */
  readonly format: DropFormat;
  /** The coupon applied to it (`<room>.<code>`), or null. */
  readonly couponId: string | null;
  /** What the coupon takes off the list total; 0 without one. */
  readonly discountMinor: number;
  /** totalMinor - discountMinor: what the buyer pays (the captured amount). */
  readonly paidMinor: number;
  readonly status: OrderStatus;
  readonly holdDeadline: number;
  readonly paymentRef: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When it became paid; kept after a refund. */
  readonly paidAt: number | null;
}

export interface OrderEvent {
  readonly id: number;
  readonly reservationId: string;
  /** null for the creation event. */
  readonly fromStatus: OrderStatus | null;
  readonly toStatus: OrderStatus;
  readonly reason: string;
  readonly details: Record<string, unknown> | null;
  readonly at: number;
}

export interface PaymentAttempt {
  readonly id: number;
  readonly reservationId: string;
  /** The payer (the order's buyer): idempotency keys are unique per payer. */
  readonly userId: string;
  readonly idempotencyKey: string;
  /** The idempotency key the provider gets (unique across payers). */
  readonly providerKey: string;
  readonly status: PaymentAttemptStatus;
  readonly providerRef: string | null;
  readonly refundRef: string | null;
  readonly amountMinor: number;
  readonly currency: string;
  readonly errorCode: string | null;
  readonly createdAt: number;
  /** When the attempt took its last step. */
  readonly updatedAt: number;
  /** When the reconciler asked the provider about it; null if never. */
  readonly checkedAt: number | null;
}

export interface DropSummary {
  readonly dropId: string;
  readonly orders: number;
  readonly paidOrders: number;
  /** Units of paid orders. */
  readonly unitsSold: number;
  /** List total of paid orders (refunded ones are not GMV): gross GMV. */
  readonly gmvMinor: number;
  /** What the buyers of paid orders paid (gross GMV less coupon discounts): net GMV. */
  readonly netGmvMinor: number;
  /** Coupon discounts of paid orders: what coupons cost the seller. */
  readonly couponCostMinor: number;
  /** The drop's currency; null when it has no orders. */
  readonly currency: string | null;
  /** Units of orders still pending payment. */
  readonly heldUnits: number;
  readonly expiredUnits: number;
  readonly cancelledUnits: number;
  readonly refundedUnits: number;
  /** paidOrders / orders no longer pending (paid, expired, cancelled, refunded); null when none. */
  readonly conversion: number | null;
}

export interface CurrencyAmount {
  readonly currency: string;
  readonly minor: number;
}

export interface RoomTotals {
  readonly roomId: string;
  /** Drops of this room that have at least one order. */
  readonly drops: number;
  readonly orders: number;
  readonly paidOrders: number;
  readonly unitsSold: number;
  /** Gross GMV (list totals) of paid orders per currency, sorted by currency. */
  readonly gmv: readonly CurrencyAmount[];
  /** Net GMV (what buyers paid) of paid orders per currency, sorted by currency. */
  readonly netGmv: readonly CurrencyAmount[];
  /** Coupon discounts of paid orders per currency, sorted by currency. */
  readonly couponCost: readonly CurrencyAmount[];
}

export type StoreTarget =
  /** `schema`: a PostgreSQL schema of its own (created if missing), e.g. for shadow traffic. */
  | { readonly kind: "pg"; readonly url: string; readonly schema?: string }
  /** `sharedBuffersMB`: PGlite's shared_buffers (its memory lives in this process). */
  | { readonly kind: "pglite"; readonly dataDir: string; readonly sharedBuffersMB?: number };
