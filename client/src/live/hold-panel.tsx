import { useEffect, useState } from "preact/hooks";
import type { WireOrderStatus } from "../../../protocol/index.ts";
import { api } from "../shared/api.ts";
import type { LiveConnection } from "../shared/connection.ts";
import { clockText, money } from "../shared/format.ts";
import { useFrames, useServerNow } from "../shared/hooks.ts";
import { type MessageKey, useI18n } from "../shared/i18n.ts";
import { randomId } from "../shared/ids.ts";
import type { ServerClock } from "../shared/server-clock.ts";
import { COUPON_ERRORS } from "./coupon-card.tsx";
import { forgetClaim, useClaims } from "./coupon-state.ts";
import type { Hold } from "./drop-card.tsx";

/** Sandbox payment tokens (orders/payments/sandbox.ts): no real money moves. */
const TEST_CARDS: readonly { token: string; label: MessageKey }[] = [
  { token: "tok_success", label: "pay.card.success" },
  { token: "tok_declined", label: "pay.card.declined" },
  { token: "tok_insufficient_funds", label: "pay.card.funds" },
];

const PAY_ERRORS: Record<string, MessageKey> = {
  PAYMENT_DECLINED: "pay.err.declined",
  PAYMENT_TIMEOUT: "pay.err.timeout",
  HOLD_EXPIRED: "pay.err.expired",
  ...COUPON_ERRORS,
};

/** What the buyer paid: the list total less the coupon's discount. */
interface Paid {
  readonly discountMinor: number;
  readonly paidMinor: number;
}

const VIA: Record<NonNullable<Hold["via"]>, MessageKey> = {
  draw: "hold.via.draw",
  handoff: "hold.via.handoff",
  waitlist: "hold.via.waitlist",
};

const STATUS: Record<WireOrderStatus, MessageKey> = {
  pending_payment: "order.pending",
  paid: "order.paid",
  expired: "order.expired",
  cancelled: "order.cancelled",
  refunded: "order.refunded",
};

/**
 * After a buy: the hold with its pay-by countdown, the sandbox checkout (with a claimed coupon
 * applied, if the buyer picks one), what was paid, and the order status, which follows order frames on the same socket (paid, expired when the deadline passes).
 */
export function HoldPanel({
  hold,
  conn,
  clock,
  token,
  onClose,
}: {
  hold: Hold;
  conn: LiveConnection;
  clock: ServerClock;
  token: () => Promise<string>;
  onClose: () => void;
}) {
  const t = useI18n();
  const now = useServerNow(clock, 250, [hold.deadline]);
  const [status, setStatus] = useState<WireOrderStatus>("pending_payment");
  const [card, setCard] = useState("tok_success");
  const [paying, setPaying] = useState(false);
  const [error, setError] = useState<MessageKey | undefined>();
  const claims = useClaims();
  const [claimId, setClaimId] = useState<string | undefined>();
  const [paid, setPaid] = useState<Paid | undefined>();
  // A claim no longer held (used on another order) is not offered.
  const applied = claims.find((c) => c.claimId === claimId);

  useFrames(conn, (f) => {
    // Order updates may arrive in any order relative to the pay ack; a settled status sticks.
    if (f.t === "order" && f.reservationId === hold.reservationId)
      setStatus((s) => (s === "pending_payment" ? f.status : s));
  });

  // A hold restored after a reload: ask where its order stands.
  useEffect(() => {
    token()
      .then((tok) =>
        api<{ order: { status: WireOrderStatus } & Paid }>(`/api/v1/orders/${hold.reservationId}`, {
          token: tok,
        }),
      )
      .then((r) => {
        setStatus((s) => (s === "pending_payment" ? r.order.status : s));
        if (r.order.status === "paid") setPaid((p) => p ?? r.order);
      })
      .catch(() => undefined); // not created yet (the pipeline is a moment behind): frames will tell
  }, [hold.reservationId, token]);

  const left = hold.deadline - now;
  const expired = status === "expired" || (status === "pending_payment" && left <= 0);
  const shown: WireOrderStatus = expired && status === "pending_payment" ? "expired" : status;

  const pay = async () => {
    setPaying(true);
    setError(undefined);
    try {
      const ack = await conn.request({
        t: "pay",
        reservationId: hold.reservationId,
        token: card,
        idempotencyKey: randomId("pay"),
        ...(applied ? { couponClaimId: applied.claimId } : {}),
      });
      if (ack.ok && ack.result.kind === "pay") {
        setStatus(ack.result.status);
        if (ack.result.status === "paid") {
          setPaid({ discountMinor: ack.result.discountMinor, paidMinor: ack.result.paidMinor });
          if (applied) forgetClaim(applied.claimId);
        }
      } else if (!ack.ok) setError(PAY_ERRORS[ack.code] ?? "pay.err.generic");
    } catch {
      setError("buy.err.offline");
    } finally {
      setPaying(false);
    }
  };

  return (
    // Labelled by its product and the order's number: a buyer may hold several at once (a win, an offer).
    <section
      class="hold"
      aria-label={`${t("hold.label")}: ${hold.title} (${hold.reservationId.slice(hold.reservationId.lastIndexOf(".") + 1)})`}
      data-testid="hold"
      data-status={shown}
    >
      <h2 class="hold-title">
        {hold.title} × {hold.qty}
      </h2>
      <p class="hold-total">{money(hold.priceMinor * hold.qty, hold.currency)}</p>
      {paid && paid.discountMinor > 0 ? (
        <p
          class="hold-paid"
          data-testid="paid-amount"
          data-paid={paid.paidMinor}
          data-discount={paid.discountMinor}
        >
          {t("coupon.paid", {
            paid: money(paid.paidMinor, hold.currency),
            discount: money(paid.discountMinor, hold.currency),
            total: money(paid.paidMinor + paid.discountMinor, hold.currency),
          })}
        </p>
      ) : null}
      {hold.via ? (
        <p class="hold-via" data-testid="hold-via" data-via={hold.via}>
          {t(VIA[hold.via])}
        </p>
      ) : null}
      <p class="hold-status" data-testid="order-status" role="status">
        {t(STATUS[shown])}
      </p>
      {shown === "pending_payment" ? (
        <>
          <p class="hold-deadline" data-testid="pay-by">
            {t(hold.via === "handoff" || hold.via === "waitlist" ? "hold.claimBy" : "hold.payBy", {
              time: clockText(left),
            })}
          </p>
          <fieldset class="cards">
            <legend>{t("pay.sandbox")}</legend>
            {TEST_CARDS.map((c) => (
              <label key={c.token} class="card-option">
                <input
                  type="radio"
                  name="card"
                  value={c.token}
                  checked={card === c.token}
                  onChange={() => setCard(c.token)}
                />
                {t(c.label)}
              </label>
            ))}
          </fieldset>
          {claims.length > 0 ? (
            <fieldset class="cards" data-testid="coupon-apply">
              <legend>{t("coupon.label")}</legend>
              <label class="card-option">
                <input
                  type="radio"
                  name={`coupon-${hold.reservationId}`}
                  checked={!applied}
                  onChange={() => setClaimId(undefined)}
                />
                {t("coupon.remove")}
              </label>
              {claims.map((c) => (
                <label key={c.claimId} class="card-option">
                  <input
                    type="radio"
                    name={`coupon-${hold.reservationId}`}
                    checked={applied?.claimId === c.claimId}
                    onChange={() => setClaimId(c.claimId)}
                  />
                  {t("coupon.apply", { code: c.code })}
                </label>
              ))}
            </fieldset>
          ) : null}
          <button type="button" class="btn btn-pay" disabled={paying} onClick={pay} data-testid="pay">
            {paying ? t("pay.paying") : t("pay.button")}
          </button>
        </>
      ) : (
        <button type="button" class="btn btn-quiet" onClick={onClose}>
          {t("hold.close")}
        </button>
      )}
      {error ? (
        <p class="drop-error" role="alert">
          {t(error)}
        </p>
      ) : null}
    </section>
  );
}
