import { useState } from "preact/hooks";
import type { CouponStatus } from "../../../protocol/index.ts";
import { couponTerms } from "../live/coupon-terms.ts";
import { api } from "../shared/api.ts";
import { useI18n } from "../shared/i18n.ts";
import { usePoll } from "../shared/poll.ts";

/** Claimed and redeemed counts move with every claim: read them as often as the live stats. */
const COUPONS_POLL_MS = 2_000;
const CURRENCIES = ["USD", "CNY", "EUR", "GBP", "JPY"] as const;

function minorDigits(currency: string): number {
  return (
    new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2
  );
}

/** "12.50" in `currency` as minor units (1250); NaN for anything else. */
function toMinor(text: string, currency: string): number {
  const trimmed = text.trim().replace(",", ".");
  if (!/^[0-9]+(\.[0-9]{1,3})?$/.test(trimmed)) return Number.NaN;
  return Math.round(Number(trimmed) * 10 ** minorDigits(currency));
}

/**
 * Pin a coupon in the room (code, amount or percent off, minimum order, quota, per buyer, valid
 * until), unpin it, and watch each pinned coupon's claimed and redeemed counts (polled). The
 * gateway checks every term; its refusal shows as the form's message.
 */
export function CouponPanel({ room, token }: { room: string; token: string }) {
  const t = useI18n();
  const [coupons, setCoupons] = useState<readonly CouponStatus[]>([]);
  const [code, setCode] = useState("");
  const [kind, setKind] = useState<"amount" | "percent">("amount");
  const [amount, setAmount] = useState("5.00");
  const [percent, setPercent] = useState(10);
  const [currency, setCurrency] = useState<string>("USD");
  const [minOrder, setMinOrder] = useState("0");
  const [quota, setQuota] = useState(100);
  const [perBuyer, setPerBuyer] = useState(1);
  const [validUntil, setValidUntil] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();

  const path = `/api/v1/rooms/${room}/coupons`;
  const error = usePoll(
    () => api<{ coupons: CouponStatus[] }>(path, { token }),
    COUPONS_POLL_MS,
    (r) => setCoupons(r.coupons),
    true,
  );
  const upsert = (c: CouponStatus) =>
    setCoupons((list) =>
      c.pinned
        ? [...list.filter((x) => x.code !== c.code), c].sort((a, b) => a.code.localeCompare(b.code))
        : list.filter((x) => x.code !== c.code),
    );

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setMessage(undefined);
    try {
      const until = validUntil ? new Date(validUntil).getTime() : undefined;
      const r = await api<{ coupon: CouponStatus }>(path, {
        token,
        body: {
          code: code.trim().toUpperCase(),
          discount:
            kind === "amount"
              ? { kind, amountMinor: toMinor(amount, currency), currency }
              : { kind, percent },
          minOrderMinor: toMinor(minOrder || "0", currency),
          quota,
          perBuyer,
          ...(until !== undefined && Number.isFinite(until) ? { validUntil: until } : {}),
        },
      });
      upsert(r.coupon);
      setMessage({ ok: true, text: couponTerms(r.coupon, t, currency) });
      setCode("");
    } catch (err) {
      setMessage({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const unpin = async (c: CouponStatus) => {
    try {
      upsert(
        (await api<{ coupon: CouponStatus }>(`${path}/${c.code}/unpin`, { token, method: "POST" })).coupon,
      );
    } catch (err) {
      setMessage({ ok: false, text: (err as Error).message });
    }
  };

  const num = (set: (n: number) => void) => (e: Event) => set(Number((e.target as HTMLInputElement).value));
  return (
    <section class="panel" aria-labelledby="coupon-panel-title" data-testid="coupon-panel">
      <h2 id="coupon-panel-title">{t("coupon.title")}</h2>
      <form onSubmit={submit} data-testid="coupon-form">
        <div class="form-grid">
          <label>
            {t("coupon.code")}
            <input
              name="couponCode"
              required
              pattern="[A-Za-z0-9]{3,20}"
              value={code}
              onInput={(e) => setCode((e.target as HTMLInputElement).value.toUpperCase())}
            />
          </label>
          <label>
            {t("coupon.kind")}
            <select
              name="couponKind"
              value={kind}
              onChange={(e) =>
                setKind((e.target as HTMLSelectElement).value === "percent" ? "percent" : "amount")
              }
            >
              <option value="amount">{t("coupon.kind.amount")}</option>
              <option value="percent">{t("coupon.kind.percent")}</option>
            </select>
          </label>
          {kind === "amount" ? (
            <label>
              {t("coupon.amount")}
              <input
                name="couponAmount"
                inputMode="decimal"
                required
                pattern="[0-9]+([.,][0-9]{1,3})?"
                value={amount}
                onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
              />
            </label>
          ) : (
            <label>
              {t("coupon.percent")}
              <input
                name="couponPercent"
                type="number"
                min={1}
                max={90}
                required
                value={percent}
                onInput={num(setPercent)}
              />
            </label>
          )}
          <label>
            {t("coupon.currency")}
            <select
              name="couponCurrency"
              value={currency}
              onChange={(e) => setCurrency((e.target as HTMLSelectElement).value)}
            >
              {CURRENCIES.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </label>
          <label>
            {t("coupon.minOrder")}
            <input
              name="couponMinOrder"
              inputMode="decimal"
              pattern="[0-9]+([.,][0-9]{1,3})?"
              value={minOrder}
              onInput={(e) => setMinOrder((e.target as HTMLInputElement).value)}
            />
          </label>
          <label>
            {t("coupon.quota")}
            <input name="couponQuota" type="number" min={1} required value={quota} onInput={num(setQuota)} />
          </label>
          <label>
            {t("coupon.perBuyer")}
            <input
              name="couponPerBuyer"
              type="number"
              min={1}
              required
              value={perBuyer}
              onInput={num(setPerBuyer)}
            />
          </label>
          <label>
            {t("coupon.validUntil")}
            <input
              name="couponValidUntil"
              type="datetime-local"
              value={validUntil}
              onInput={(e) => setValidUntil((e.target as HTMLInputElement).value)}
            />
          </label>
        </div>
        <button
          type="submit"
          class="btn btn-primary"
          disabled={busy}
          data-testid="coupon-pin"
          style={{ marginTop: "8px" }}
        >
          {busy ? t("coupon.pinning") : t("coupon.pin")}
        </button>
        {message ? (
          <p
            class={message.ok ? "ok" : "bad"}
            role={message.ok ? "status" : "alert"}
            data-testid="coupon-message"
          >
            {message.text}
          </p>
        ) : null}
      </form>
      {error ? (
        <p class="bad" role="alert">
          {error.message}
        </p>
      ) : null}
      {coupons.length === 0 ? (
        <p class="muted">{t("coupon.none")}</p>
      ) : (
        <table class="table">
          <tbody>
            {coupons.map((c) => (
              <tr key={c.code} data-testid="host-coupon" data-code={c.code}>
                <th scope="row">{c.code}</th>
                <td>{couponTerms(c, t, currency)}</td>
                <td data-testid="host-coupon-counts" data-claimed={c.claimed} data-redeemed={c.redeemed}>
                  {t("coupon.counts", { claimed: c.claimed, quota: c.quota, redeemed: c.redeemed })}
                </td>
                <td>
                  <button
                    type="button"
                    class="btn btn-small"
                    onClick={() => unpin(c)}
                    aria-label={`${t("coupon.unpin")} ${c.code}`}
                  >
                    {t("coupon.unpin")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
