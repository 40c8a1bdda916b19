import type { CouponStatus } from "../../../protocol/index.ts";
import { money } from "../shared/format.ts";
import type { t as translate } from "../shared/i18n.ts";

/**
 * A coupon's terms as one line: "$5.00 off · on orders from $20.00 · until 14:30". A percent
 * coupon's minimum is in the order's currency: `currency` (the room's drops' one).
 */
export function couponTerms(c: CouponStatus, t: typeof translate, currency: string): string {
  const cur = c.discount.kind === "amount" ? c.discount.currency : currency;
  const parts = [
    c.discount.kind === "amount"
      ? t("coupon.off.amount", { amount: money(c.discount.amountMinor, c.discount.currency) })
      : t("coupon.off.percent", { percent: c.discount.percent }),
  ];
  if (c.minOrderMinor > 0) parts.push(t("coupon.minOrderLine", { amount: money(c.minOrderMinor, cur) }));
  if (c.validUntil !== null)
    parts.push(
      t("coupon.until", {
        time: new Date(c.validUntil).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" }),
      }),
    );
  return parts.join(" · ");
}
