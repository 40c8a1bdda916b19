import { z } from "zod";
import {
  ConflictError,
  ErrorCode,
  isLivedropError,
  LivedropError,
  NotFoundError,
  type RedisClient,
  RejectedError,
  validate,
} from "../core/index.ts";
import {
  idempotencyKeySchema,
  reservationIdSchema,
  type SaleEngine,
  userIdSchema,
} from "../sale-engine/index.ts";
import { ensureOrder } from "./ensure-order.ts";
import type { PaymentProvider } from "./payments/index.ts";
import { publishOrderUpdate } from "./pipeline/publisher.ts";
import type { Order, OrderStore } from "./store/index.ts";

const payRequestSchema = z.strictObject({
  reservationId: reservationIdSchema,
  userId: userIdSchema,
  /** Payment token from the buyer's browser (sandbox: tok_success, tok_declined, ...). */
  token: z.string().regex(/^[A-Za-z0-9_]{1,64}$/, "1-64 of A-Z a-z 0-9 _"),
  idempotencyKey: idempotencyKeySchema,
});
export type PayRequest = z.infer<typeof payRequestSchema>;

const refundRequestSchema = z.strictObject({
  reservationId: reservationIdSchema,
  reason: z.string().trim().min(1).max(200),
});

export interface CheckoutOptions {
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  readonly payments: PaymentProvider;
  readonly redis: RedisClient;
  readonly keyPrefix: string;
}

/**
 * Pay → capture → sale-engine confirm → order paid. A decline leaves the hold as it is, so the
 * buyer may try again (with a new idempotency key) until the deadline. Past the deadline nothing
 * is charged; if the deadline passes between capture and confirm, the capture is refunded.
 */
export class Checkout {
  constructor(private readonly o: CheckoutOptions) {}

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

    const previous = await store.paymentAttempt(r.idempotencyKey);
    if (previous && previous.reservationId !== r.reservationId) {
      throw new ConflictError(
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        "this idempotency key was used for another order",
      );
    }
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
    if (hold.status === "confirmed") return this.markPaid(r.reservationId, previous?.providerRef ?? null);
    if (previous && previous.status !== "succeeded")
      return this.replay(previous.status, previous.errorCode ?? null, r.reservationId);

    const drop = await engine.status(hold.dropId);
    const amountMinor = drop.product.priceMinor * hold.qty;
    const currency = drop.product.currency;
    const attempt = {
      reservationId: r.reservationId,
      idempotencyKey: r.idempotencyKey,
      amountMinor,
      currency,
    };
    // A retry after a crash between capture and confirm resumes with the recorded capture.
    let providerRef = previous?.providerRef ?? undefined;
    if (!providerRef) {
      if (drop.serverTime >= hold.deadline) {
        throw new RejectedError(ErrorCode.HOLD_EXPIRED, "the payment deadline has passed", {
          reservationId: r.reservationId,
        });
      }
      providerRef = await this.capture(attempt, r.token, hold.deadline);
    }

    try {
      await engine.confirm(r.reservationId);
    } catch (err) {
      if (
        !(
          isLivedropError(err) &&
          (err.code === ErrorCode.HOLD_EXPIRED || err.code === ErrorCode.ALREADY_RELEASED)
        )
      )
        throw err;
      // Lost the race with the deadline: give the money back, the order ends expired.
      await payments.refund({ idempotencyKey: `refund-${r.idempotencyKey}`, providerRef, amountMinor });
      await store.recordPaymentAttempt({
        ...attempt,
        idempotencyKey: `refund-${r.idempotencyKey}`,
        status: "refunded",
        providerRef,
      });
      throw new RejectedError(
        ErrorCode.HOLD_EXPIRED,
        "the payment deadline passed while paying; the charge was refunded",
        {
          reservationId: r.reservationId,
        },
      );
    }
    return this.markPaid(r.reservationId, providerRef);
  }

  /** Captures and records the attempt; a decline or timeout is recorded, then thrown. */
  private async capture(
    attempt: { reservationId: string; idempotencyKey: string; amountMinor: number; currency: string },
    token: string,
    deadline: number,
  ): Promise<string> {
    const { payments, store } = this.o;
    let capture: Awaited<ReturnType<PaymentProvider["capture"]>>;
    try {
      capture = await payments.capture({ ...attempt, token, reference: attempt.reservationId });
    } catch (err) {
      if (isLivedropError(err) && err.code === ErrorCode.PAYMENT_TIMEOUT) {
        await store.recordPaymentAttempt({
          ...attempt,
          status: "timeout",
          errorCode: ErrorCode.PAYMENT_TIMEOUT,
        });
      }
      throw err;
    }
    if (capture.status === "declined") {
      await store.recordPaymentAttempt({ ...attempt, status: "declined", errorCode: capture.declineCode });
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
    await store.recordPaymentAttempt({ ...attempt, status: "succeeded", providerRef: capture.providerRef });
    return capture.providerRef;
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
    const refund = await this.o.payments.refund({
      idempotencyKey: key,
      providerRef: order.paymentRef ?? "",
      amountMinor: order.totalMinor,
    });
    await this.o.store.recordPaymentAttempt({
      reservationId: order.reservationId,
      idempotencyKey: key,
      status: "refunded",
      providerRef: refund.refundRef,
      amountMinor: order.totalMinor,
      currency: order.currency,
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

  private replay(status: string, errorCode: string | null, reservationId: string): never {
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
