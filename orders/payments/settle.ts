import { ErrorCode, isLivedropError, type RedisClient } from "../../core/index.ts";
import type { SaleEngine } from "../../sale-engine/index.ts";
import { publishOrderUpdate } from "../pipeline/publisher.ts";
import type { Order, OrderStore, PaymentAttempt } from "../store/index.ts";
import { type FaultPoint, hitFaultPoint } from "./fault-points.ts";
import type { PaymentProvider } from "./provider.ts";

export interface SettleDeps {
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  readonly payments: PaymentProvider;
  readonly redis: RedisClient;
  readonly keyPrefix: string;
  /** Test hook: the step at which this process kills itself (see FAULT_POINTS). */
  readonly faultPoint?: FaultPoint;
}

/** Where a capture ended: paying the order, or refunded (`reason` says why). */
export type Settled =
  | { readonly kind: "paid"; readonly order: Order }
  | { readonly kind: "refunded"; readonly order: Order | undefined; readonly reason: RefundReason };

export type RefundReason = "hold_expired" | "hold_released" | "paid_by_other_capture" | "order_not_payable";

/** Sale-engine answers to confirm that mean the hold will never be sold to this buyer. */
const LOST_HOLD: ReadonlySet<string> = new Set([
  ErrorCode.HOLD_EXPIRED,
  ErrorCode.ALREADY_RELEASED,
  ErrorCode.RESERVATION_NOT_FOUND,
]);

/**
 * Finishes a captured attempt: confirms the hold and marks the order paid, or refunds the
 * capture when the hold is lost (deadline passed, released) or another capture paid the order.
 * Each step is idempotent (confirm, the store's compare-and-set, the provider's refund key), so
 * a checkout, a retried pay and any number of reconcilers may run it at once.
 */
export async function settleCaptured(d: SettleDeps, attempt: PaymentAttempt): Promise<Settled> {
  if (attempt.status === "refunded")
    return { kind: "refunded", order: await d.store.get(attempt.reservationId), reason: "order_not_payable" };
  if (attempt.status === "captured") {
    try {
      await d.engine.confirm(attempt.reservationId);
    } catch (err) {
      if (!(isLivedropError(err) && LOST_HOLD.has(err.code))) throw err;
      // Expired by confirm itself, or earlier by the sweep (ALREADY_RELEASED, status expired).
      const expired = err.code === ErrorCode.HOLD_EXPIRED || err.details?.status === "expired";
      return refundCapture(d, attempt, expired ? "hold_expired" : "hold_released");
    }
    hitFaultPoint(d.faultPoint, "after-confirm");
  }
  const settled = await d.store.settlePaymentAttempt(attempt.id);
  if (settled.outcome === "refund") {
    const paidByOther = settled.order.status === "paid" || settled.order.status === "refunded";
    return refundCapture(d, settled.attempt, paidByOther ? "paid_by_other_capture" : "order_not_payable");
  }
  hitFaultPoint(d.faultPoint, "after-order-paid");
  if (settled.changed) await publishOrderUpdate(d.redis, d.keyPrefix, "order.paid", settled.order);
  return { kind: "paid", order: settled.order };
}

/**
 * Finishes an attempt whose capture outcome is unknown (`started`: its process died waiting for
 * the provider; `timeout`: the provider did not answer) by asking the provider.
 */
export async function resolveUnknown(d: SettleDeps, attempt: PaymentAttempt): Promise<Settled | undefined> {
  const answer = await d.payments.lookupCapture(attempt.providerKey);
  const from = [attempt.status];
  if (!answer) {
    await d.store.advancePaymentAttempt({ id: attempt.id, from, to: "timeout", checked: true });
    return undefined;
  }
  if (answer.status === "declined") {
    await d.store.advancePaymentAttempt({
      id: attempt.id,
      from,
      to: "declined",
      errorCode: answer.declineCode,
    });
    return undefined;
  }
  const { attempt: captured } = await d.store.advancePaymentAttempt({
    id: attempt.id,
    from,
    to: "captured",
    providerRef: answer.providerRef,
    checked: true,
  });
  return captured.status === "captured" || captured.status === "succeeded"
    ? settleCaptured(d, captured)
    : undefined;
}

async function refundCapture(d: SettleDeps, attempt: PaymentAttempt, reason: RefundReason): Promise<Settled> {
  if (attempt.providerRef === null)
    throw new Error(`captured payment attempt ${attempt.id} has no capture reference`);
  const refund = await d.payments.refund({
    idempotencyKey: `refund-${attempt.providerKey}`,
    providerRef: attempt.providerRef,
    amountMinor: attempt.amountMinor,
  });
  await d.store.advancePaymentAttempt({
    id: attempt.id,
    from: ["captured"],
    to: "refunded",
    refundRef: refund.refundRef,
    errorCode: reason,
  });
  return { kind: "refunded", order: await d.store.get(attempt.reservationId), reason };
}
