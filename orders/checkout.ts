import { z } from "zod";
import {
  ConflictError,
  ErrorCode,
  isLivedropError,
  LivedropError,
  NotFoundError,
  RejectedError,
  validate,
} from "../core/index.ts";
import {
  couponClaimIdSchema,
  idempotencyKeySchema,
  paymentTokenSchema,
  reservationIdSchema,
  userIdSchema,
} from "../protocol/index.ts";
import { Coupons } from "../sale-engine/index.ts";
import { ensureOrder } from "./ensure-order.ts";
import {
  faultPointFromConfig,
  hitFaultPoint,
  type PaymentProvider,
  type SettleDeps,
  settleCaptured,
} from "./payments/index.ts";
import { publishOrderUpdate } from "./pipeline/publisher.ts";
import type { Order, OrderStore, PaymentAttempt, PaymentAttemptStatus } from "./store/index.ts";

/** Error code kept on the paying attempt when its paid order is refunded. */
const ORDER_REFUNDED = "order_refunded";

const payRequestSchema = z.strictObject({
  reservationId: reservationIdSchema,
  userId: userIdSchema,
  /** Payment token from the buyer's browser (sandbox: tok_success, tok_declined, ...). */
  token: paymentTokenSchema,
  idempotencyKey: idempotencyKeySchema,
  /** A coupon claim of this buyer (Coupons.claim) to apply to this order before the capture. */
  couponClaimId: couponClaimIdSchema.optional(),
});
export type PayRequest = z.infer<typeof payRequestSchema>;

const refundRequestSchema = z.strictObject({
  reservationId: reservationIdSchema,
  reason: z.string().trim().min(1).max(200),
});

/**
 * What settling a capture needs. `faultPoint` (the step at which this process kills itself, a
 * test hook) defaults to LIVEDROP_FAULT_POINT (unset) when the key is absent. `coupons`: where
 * coupon claims live; default: on the engine's Redis under its prefix.
 */
export type CheckoutOptions = SettleDeps & { readonly coupons?: Coupons };

/**
 * Pay → record the attempt (`started`) → capture → record it (`captured`) → sale-engine confirm →
 * attempt `succeeded` and order paid, in one transaction. A crash between any two steps leaves an
 * attempt the payment reconciler finishes (confirm and pay, or refund), so every capture ends
 * paying its order or refunded. A decline leaves the hold as it is, so the buyer may try again
 * (with a new idempotency key) until the deadline. Past the deadline nothing is charged; if the
 * deadline passes between capture and confirm, the capture is refunded. Idempotency keys are the
 * payer's own: another buyer's key never collides.
 */
export class Checkout {
  private readonly settle: SettleDeps;
  private readonly coupons: Coupons;

  constructor(private readonly o: CheckoutOptions) {
    const faultPoint = "faultPoint" in o ? o.faultPoint : faultPointFromConfig();
    this.settle = { ...o, ...(faultPoint ? { faultPoint } : {}) };
    this.coupons = o.coupons ?? new Coupons({ redis: o.engine.connection, prefix: o.engine.keys.prefix });
  }

  /** The lane's order store this checkout writes; the command layer's audit rows go there too. */
  get store(): OrderStore {
    return this.o.store;
  }

  async pay(request: PayRequest): Promise<Order> {
    const r = validate(payRequestSchema, request, "payment");
    const { engine, store, payments } = this.o;

    const hold = await engine.reservation(r.reservationId).catch((err: unknown) => {
      throw isLivedropError(err) && err.code === ErrorCode.RESERVATION_NOT_FOUND
        ? new NotFoundError(ErrorCode.ORDER_NOT_FOUND, "no such order", { reservationId: r.reservationId })
        : err;
    });
    // Another buyer's order is "not found" to this one: no hint that it exists.
    if (hold.userId !== r.userId)
      throw new NotFoundError(ErrorCode.ORDER_NOT_FOUND, "no such order", { reservationId: r.reservationId });
    payments.validateToken(r.token);

    const previous = await store.paymentAttempt(r.userId, r.idempotencyKey);
    if (previous && previous.reservationId !== r.reservationId) {
      throw new ConflictError(
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        "you used this idempotency key for another order",
      );
    }
    if (previous && previous.status !== "started") return this.resume(previous);
    if (hold.status !== "held" && hold.status !== "confirmed") {
      throw new RejectedError(
        ErrorCode.HOLD_EXPIRED,
        `the order can no longer be paid: its hold was ${hold.status}`,
        {
          reservationId: r.reservationId,
          status: hold.status,
        },
      );
    }
    // The buyer may pay before the relay created the order; attempts are recorded against it.
    const { created, order: pending } = await ensureOrder(engine, store, r.reservationId);
    if (created) await publishOrderUpdate(this.o.redis, this.o.keyPrefix, "order.created", pending);
    // Sold already by another attempt's capture: never capture again.
    if (hold.status === "confirmed") return this.paidAlready(r.reservationId);

    const drop = await engine.status(hold.dropId);
    if (drop.serverTime >= hold.deadline) {
      // An attempt left `started` stays so: the reconciler asks the provider what became of it.
      throw new RejectedError(ErrorCode.HOLD_EXPIRED, "the payment deadline has passed", {
        reservationId: r.reservationId,
      });
    }
    // The coupon is on the order before the attempt, so the capture takes paid_minor.
    const order = r.couponClaimId ? await this.applyCoupon(r.couponClaimId, pending) : pending;
    const { attempt } = await store.recordPaymentAttempt({
      reservationId: r.reservationId,
      idempotencyKey: r.idempotencyKey,
      status: "started",
      amountMinor: order.paidMinor,
      currency: order.currency,
    });
    hitFaultPoint(this.settle.faultPoint, "after-attempt-recorded");
    // A concurrent pay with this key got there first and moved on: follow it.
    if (attempt.status !== "started") return this.resume(attempt);
    try {
      return await this.resume(await this.capture(attempt, r.token, hold.deadline));
    } catch (err) {
      // Declined: nothing was charged, so the claim goes back to the buyer for another try.
      if (isLivedropError(err) && err.code === ErrorCode.PAYMENT_DECLINED && order.couponId !== null)
        await this.giveBack(order.couponId, order.reservationId);
      throw err;
    }
  }

  /** Applies a buyer's claim to their unpaid order: the discount is computed from its list total. */
  private async applyCoupon(claimId: string, order: Order): Promise<Order> {
    const applied = await this.coupons.apply(
      claimId,
      order.userId,
      order.reservationId,
      order.totalMinor,
      order.currency,
    );
    try {
      return await this.o.store.applyCoupon({
        reservationId: order.reservationId,
        couponId: applied.couponId,
        discountMinor: applied.discountMinor,
      });
    } catch (err) {
      // The order refused it (another coupon, a capture taken): the claim stays the buyer's.
      if (order.couponId !== applied.couponId)
        await this.coupons.settle(applied.couponId, order.reservationId, "back");
      throw err;
    }
  }

  private async giveBack(couponId: string, reservationId: string): Promise<void> {
    await this.coupons.settle(couponId, reservationId, "back");
    await this.o.store.clearCoupon(reservationId, couponId);
  }

  /** A paid order's claim is redeemed at once (the order worker does it too, for every path). */
  private async redeem(order: Order): Promise<Order> {
    if (order.couponId !== null) await this.coupons.settle(order.couponId, order.reservationId, "paid");
    return order;
  }

  /** Captures a started attempt and records the answer; a decline or timeout is recorded, then thrown. */
  private async capture(attempt: PaymentAttempt, token: string, deadline: number): Promise<PaymentAttempt> {
    const { payments, store } = this.o;
    const step = { id: attempt.id, from: ["started", "timeout"] as PaymentAttemptStatus[] };
    let capture: Awaited<ReturnType<PaymentProvider["capture"]>>;
    try {
      capture = await payments.capture({
        idempotencyKey: attempt.providerKey,
        amountMinor: attempt.amountMinor,
        currency: attempt.currency,
        token,
        reference: attempt.reservationId,
      });
    } catch (err) {
      if (isLivedropError(err) && err.code === ErrorCode.PAYMENT_TIMEOUT)
        await store.advancePaymentAttempt({ ...step, from: ["started"], to: "timeout", errorCode: err.code });
      throw err;
    }
    hitFaultPoint(this.settle.faultPoint, "after-capture");
    if (capture.status === "declined") {
      await store.advancePaymentAttempt({ ...step, to: "declined", errorCode: capture.declineCode });
      throw new RejectedError(
        ErrorCode.PAYMENT_DECLINED,
        `payment declined (${capture.declineCode}); you may try again before the deadline`,
        {
          reservationId: attempt.reservationId,
          declineCode: capture.declineCode,
          deadline,
        },
      );
    }
    const { attempt: captured } = await store.advancePaymentAttempt({
      ...step,
      to: "captured",
      providerRef: capture.providerRef,
    });
    hitFaultPoint(this.settle.faultPoint, "after-capture-recorded");
    return captured;
  }

  /** Carries an attempt on from the step it reached (a retried pay, or a captured one). */
  private async resume(attempt: PaymentAttempt): Promise<Order> {
    switch (attempt.status) {
      case "declined":
      case "timeout":
        return this.replay(attempt.status, attempt.errorCode, attempt.reservationId);
      case "started":
        // Only after a racing pay with this key: its capture is still under way.
        throw new LivedropError(
          ErrorCode.PAYMENT_TIMEOUT,
          "this payment is still being processed; try again",
          {
            reservationId: attempt.reservationId,
            replayed: true,
          },
        );
      default: {
        const settled = await settleCaptured(this.settle, attempt);
        if (settled.kind === "paid") return this.redeem(settled.order);
        // Another capture paid the order: this one was given back, the order is paid.
        if (settled.order?.status === "paid") return this.redeem(settled.order);
        throw new RejectedError(
          ErrorCode.HOLD_EXPIRED,
          "the payment deadline passed while paying; the charge was refunded",
          { reservationId: attempt.reservationId },
        );
      }
    }
  }

  /** The hold is sold already (another attempt's capture): finish that attempt, return the order. */
  private async paidAlready(reservationId: string): Promise<Order> {
    for (const a of await this.o.store.paymentAttempts(reservationId)) {
      if (a.status !== "captured" && a.status !== "succeeded") continue;
      const settled = await settleCaptured(this.settle, a);
      if (settled.kind === "paid") return settled.order;
    }
    return this.markPaid(reservationId, null);
  }

  /** Marks a paid order refunded and refunds the capture. Stock does not return. */
  async refund(reservationId: string, reason: string): Promise<Order> {
    const request = validate(refundRequestSchema, { reservationId, reason }, "refund");
    const order = await this.o.store.get(request.reservationId);
    if (!order) throw new NotFoundError(ErrorCode.ORDER_NOT_FOUND, "no such order", { reservationId });
    if (order.status === "refunded") return order;
    if (order.status !== "paid") {
      throw new ConflictError(
        ErrorCode.ORDER_STATE_CONFLICT,
        `only a paid order can be refunded; this one is ${order.status}`,
        {
          from: order.status,
          to: "refunded",
        },
      );
    }
    const key = `refund-order-${order.reservationId}`;
    const paying = (await this.o.store.paymentAttempts(order.reservationId)).find(
      (a) => a.status === "succeeded" || (a.status === "refunded" && a.errorCode === ORDER_REFUNDED),
    );
    const refund = await this.o.payments.refund({
      idempotencyKey: key,
      providerRef: paying?.providerRef ?? order.paymentRef ?? "",
      amountMinor: paying?.amountMinor ?? order.paidMinor,
    });
    if (paying)
      await this.o.store.advancePaymentAttempt({
        id: paying.id,
        from: ["succeeded"],
        to: "refunded",
        refundRef: refund.refundRef,
        errorCode: ORDER_REFUNDED,
      });
    const { changed, order: refunded } = await this.o.store.transition(order.reservationId, "refunded", {
      reason: request.reason,
      details: { refundRef: refund.refundRef },
    });
    if (changed) await publishOrderUpdate(this.o.redis, this.o.keyPrefix, "order.refunded", refunded);
    return refunded;
  }

  private async markPaid(reservationId: string, paymentRef: string | null): Promise<Order> {
    const { changed, order } = await this.o.store.transition(reservationId, "paid", {
      reason: "payment captured",
      ...(paymentRef ? { paymentRef } : {}),
    });
    if (changed) await publishOrderUpdate(this.o.redis, this.o.keyPrefix, "order.paid", order);
    return order;
  }

  private replay(status: PaymentAttemptStatus, errorCode: string | null, reservationId: string): never {
    if (status === "declined") {
      throw new RejectedError(
        ErrorCode.PAYMENT_DECLINED,
        `payment declined (${errorCode ?? "declined"}); use a new idempotency key to try again`,
        {
          reservationId,
          declineCode: errorCode,
          replayed: true,
        },
      );
    }
    throw new LivedropError(
      ErrorCode.PAYMENT_TIMEOUT,
      "this payment attempt timed out; use a new idempotency key to try again",
      {
        reservationId,
        replayed: true,
      },
    );
  }
}
