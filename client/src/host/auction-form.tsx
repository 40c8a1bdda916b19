import { useState } from "preact/hooks";
import { AUCTION_LIMITS } from "../../../protocol/index.ts";
import { minorDigits, toMinor } from "../live/auction-money.tsx";
import { ApiError, api } from "../shared/api.ts";
import { useI18n } from "../shared/i18n.ts";
import { randomId } from "../shared/ids.ts";

const CURRENCIES = ["USD", "CNY", "EUR", "GBP", "JPY"] as const;

/** The fields a host types, in the units they think in (major units, seconds). */
export interface AuctionFormValues {
  readonly title: string;
  readonly price: string;
  readonly currency: string;
  readonly step: string;
  readonly reserve: string;
  readonly durationS: number;
  readonly antiSnipeS: number;
  readonly suddenDeath: boolean;
  readonly holdS: number;
  readonly image: string;
}

/** The body of POST /api/v1/rooms/:room/auctions (the room is the path's), or the field that is wrong. */
export function auctionBody(
  v: AuctionFormValues,
  dropId: string,
): { ok: true; body: Record<string, unknown> } | { ok: false; field: "price" | "step" | "reserve" } {
  const digits = minorDigits(v.currency);
  const priceMinor = toMinor(v.price, digits);
  const stepMinor = toMinor(v.step, digits);
  const reserveMinor = v.reserve.trim() === "" ? undefined : toMinor(v.reserve, digits);
  if (priceMinor === undefined) return { ok: false, field: "price" };
  if (stepMinor === undefined || stepMinor <= 0) return { ok: false, field: "step" };
  if (v.reserve.trim() !== "" && reserveMinor === undefined) return { ok: false, field: "reserve" };
  return {
    ok: true,
    body: {
      dropId,
      product: {
        sku: v.title.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 40) || "item",
        title: v.title,
        priceMinor,
        currency: v.currency,
        imageUrl: v.image,
      },
      durationMs: Math.round(v.durationS * 1000),
      increments: [{ fromMinor: 0, stepMinor }],
      ...(reserveMinor !== undefined ? { reserveMinor } : {}),
      // Sudden death: the end never moves, so no anti-snipe window.
      antiSnipeMs: v.suddenDeath ? 0 : Math.round(v.antiSnipeS * 1000),
      suddenDeath: v.suddenDeath,
      holdMs: Math.round(v.holdS * 1000),
    },
  };
}

/** "Open auction": one unit to the highest proxy bid; bidding opens at once (docs/auctions.md). */
export function AuctionForm({ room, token }: { room: string; token: string }) {
  const t = useI18n();
  const [v, setV] = useState<AuctionFormValues>({
    title: "",
    price: "10.00",
    currency: "USD",
    step: "1.00",
    reserve: "",
    durationS: 60,
    antiSnipeS: 10,
    suddenDeath: false,
    holdS: 120,
    image: `${location.origin}/demo/product.svg`,
  });
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();
  const set = (patch: Partial<AuctionFormValues>) => setV((old) => ({ ...old, ...patch }));
  const num = (e: Event) => Number((e.target as HTMLInputElement).value);
  const text = (e: Event) => (e.target as HTMLInputElement).value;

  const submit = async (e: Event) => {
    e.preventDefault();
    setMessage(undefined);
    const title = v.title.trim() || t("auction.form.defaultTitle");
    const built = auctionBody({ ...v, title }, randomId("a").slice(0, 24));
    if (!built.ok) {
      setMessage({ ok: false, text: t("auction.form.bad", { field: t(`auction.form.${built.field}`) }) });
      return;
    }
    setBusy(true);
    try {
      await api(`/api/v1/rooms/${encodeURIComponent(room)}/auctions`, { token, body: built.body });
      setMessage({ ok: true, text: t("auction.form.opened", { title }) });
      set({ title: "" });
    } catch (err) {
      setMessage({ ok: false, text: err instanceof ApiError ? `${err.code}: ${err.message}` : String(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel" onSubmit={submit} aria-labelledby="auction-form-title" data-testid="auction-form">
      <h2 id="auction-form-title">{t("auction.form.title")}</h2>
      <div class="form-grid">
        <label class="wide">
          {t("auction.form.product")}
          <input
            name="title"
            maxLength={200}
            value={v.title}
            placeholder={t("auction.form.defaultTitle")}
            onInput={(e) => set({ title: text(e) })}
          />
        </label>
        <label>
          {t("auction.form.price")}
          <input
            name="price"
            inputMode="decimal"
            required
            value={v.price}
            onInput={(e) => set({ price: text(e) })}
          />
        </label>
        <label>
          {t("auction.form.currency")}
          <select name="currency" value={v.currency} onChange={(e) => set({ currency: text(e) })}>
            {CURRENCIES.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          {t("auction.form.step")}
          <input
            name="step"
            inputMode="decimal"
            required
            value={v.step}
            onInput={(e) => set({ step: text(e) })}
          />
        </label>
        <label>
          {t("auction.form.reserve")}
          <input
            name="reserve"
            inputMode="decimal"
            value={v.reserve}
            placeholder={t("auction.form.noReserve")}
            onInput={(e) => set({ reserve: text(e) })}
          />
        </label>
        <label>
          {t("auction.form.durationS")}
          <input
            name="durationS"
            type="number"
            min={AUCTION_LIMITS.minDurationMs / 1000}
            max={AUCTION_LIMITS.maxDurationMs / 1000}
            required
            value={v.durationS}
            onInput={(e) => set({ durationS: num(e) })}
          />
        </label>
        <label>
          {t("auction.form.antiSnipeS")}
          <input
            name="antiSnipeS"
            type="number"
            min={0}
            max={AUCTION_LIMITS.maxAntiSnipeMs / 1000}
            disabled={v.suddenDeath}
            value={v.suddenDeath ? 0 : v.antiSnipeS}
            onInput={(e) => set({ antiSnipeS: num(e) })}
          />
        </label>
        <label class="check">
          <input
            type="checkbox"
            name="suddenDeath"
            checked={v.suddenDeath}
            onChange={(e) => set({ suddenDeath: (e.target as HTMLInputElement).checked })}
          />
          {t("auction.form.suddenDeath")}
        </label>
        <label>
          {t("auction.form.holdS")}
          <input name="holdS" type="number" min={1} value={v.holdS} onInput={(e) => set({ holdS: num(e) })} />
        </label>
        <label class="wide">
          {t("auction.form.image")}
          <input name="image" type="url" value={v.image} onInput={(e) => set({ image: text(e) })} />
        </label>
      </div>
      <div class="row" style={{ marginTop: "8px" }}>
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="open-auction">
          {t("auction.form.submit")}
        </button>
        {message ? (
          <span role="status" class={message.ok ? "ok" : "bad"}>
            {message.text}
          </span>
        ) : null}
      </div>
    </form>
  );
}
