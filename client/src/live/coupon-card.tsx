import { useState } from "preact/hooks";
import type { CouponStatus } from "../../../protocol/index.ts";
import type { LiveConnection } from "../shared/connection.ts";
import { type MessageKey, useI18n } from "../shared/i18n.ts";
import { claimKey, rememberClaim, useClaims } from "./coupon-state.ts";
import { couponTerms } from "./coupon-terms.ts";

/** Refusals a claim or a coupon payment may get, as the buyer reads them. */
export const COUPON_ERRORS: Record<string, MessageKey> = {
  COUPON_NOT_FOUND: "coupon.err.notFound",
  COUPON_NOT_ACTIVE: "coupon.err.notActive",
  COUPON_EXHAUSTED: "coupon.err.exhausted",
  COUPON_LIMIT_REACHED: "coupon.err.limit",
  COUPON_NOT_APPLICABLE: "coupon.err.notApplicable",
};

function CouponRow({
  coupon,
  conn,
  currency,
}: {
  coupon: CouponStatus;
  conn: LiveConnection;
  currency: string;
}) {
  const t = useI18n();
  const claimed = useClaims().some((c) => c.couponId === coupon.couponId);
  const [claiming, setClaiming] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const left = Math.max(0, coupon.quota - coupon.claimed);
  const claim = async () => {
    setClaiming(true);
    setError(undefined);
    try {
      const ack = await conn.request({
        t: "coupon",
        room: coupon.roomId,
        code: coupon.code,
        idempotencyKey: claimKey(coupon.couponId),
      });
      if (ack.ok && ack.result.kind === "coupon")
        rememberClaim({ claimId: ack.result.claimId, couponId: ack.result.couponId, code: coupon.code });
      else if (!ack.ok) {
        const key = COUPON_ERRORS[ack.code];
        setError(key ? t(key) : t("coupon.err.generic", { message: ack.message }));
      }
    } catch {
      setError(t("buy.err.offline"));
    } finally {
      setClaiming(false);
    }
  };
  return (
    <li class="coupon" data-testid="coupon" data-code={coupon.code} data-claimed={claimed}>
      <strong class="coupon-code">{coupon.code}</strong> <span>{couponTerms(coupon, t, currency)}</span>{" "}
      <span class="muted" data-testid="coupon-left">
        {t("coupon.left", { n: left })}
      </span>{" "}
      {claimed ? (
        <span role="status" data-testid="coupon-claimed">
          {t("coupon.claimed")}
        </span>
      ) : (
        <button
          type="button"
          class="btn btn-small"
          disabled={claiming || left === 0}
          onClick={claim}
          data-testid="coupon-claim"
          aria-label={`${t("coupon.claim")} ${coupon.code}`}
        >
          {claiming ? t("coupon.claiming") : t("coupon.claim")}
        </button>
      )}
      {error ? (
        <span class="drop-error" role="alert">
          {error}
        </span>
      ) : null}
    </li>
  );
}

/** The room's pinned coupons with a Claim button each; nothing while none is pinned. */
export function CouponCard({
  coupons,
  conn,
  currency,
}: {
  coupons: ReadonlyMap<string, CouponStatus>;
  conn: LiveConnection;
  /** The room's drops' currency (a percent coupon's minimum order is in it). */
  currency: string;
}) {
  const t = useI18n();
  if (coupons.size === 0) return null;
  return (
    <section class="panel coupons" aria-labelledby="coupons-title" data-testid="coupons">
      <h2 id="coupons-title" class="kpi-label">
        {t("coupon.label")}
      </h2>
      <ul style={{ listStyle: "none", margin: 0, padding: 0 }}>
        {[...coupons.values()].map((c) => (
          <CouponRow key={c.code} coupon={c} conn={conn} currency={currency} />
        ))}
      </ul>
    </section>
  );
}
