import { useState } from "preact/hooks";
import { api } from "../shared/api.ts";
import { useI18n } from "../shared/i18n.ts";
import { randomId } from "../shared/ids.ts";
import type { ServerClock } from "../shared/server-clock.ts";
import { FormatSelect, type FormFormat, withFormat } from "./pin-format.tsx";

/** "Wait for my launch": a start far enough ahead that only the Launch button opens it. */
const HELD_BACK_MS = 30 * 24 * 3600_000;
const CURRENCIES = ["USD", "CNY", "EUR", "GBP", "JPY"] as const;
/** How buyers get the units: first come, a fair window at T0 (then first come), or a raffle. */
type Mode = "fcfs" | "window" | "raffle";
const MODES: readonly {
  id: Mode;
  label: "host.form.mode.fcfs" | "host.form.mode.window" | "host.form.mode.raffle";
}[] = [
  { id: "fcfs", label: "host.form.mode.fcfs" },
  { id: "window", label: "host.form.mode.window" },
  { id: "raffle", label: "host.form.mode.raffle" },
];

function minorDigits(currency: string): number {
  return (
    new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2
  );
}

/** The drop fields of a sale mode: a fair window (ms, or "auto": the room's video delay), a raffle's entry window, the waitlist switch. */
export function modeFields(
  mode: Mode,
  o: { windowAuto: boolean; windowS: number; raffleMin: number; waitlist: boolean },
): Record<string, number | string | boolean> {
  if (mode === "window") return { fairWindowMs: o.windowAuto ? "auto" : Math.round(o.windowS * 1000) };
  if (mode === "raffle") return { raffleWindowMs: Math.round(o.raffleMin * 60_000) };
  return o.waitlist ? {} : { waitlist: false };
}

/**
 * Schedule a drop: product, price, stock, per-user limit, when it opens (in N seconds on the
 * server's clock, or when the host presses Launch), how long a buyer has to pay, and how buyers
 * get it (first come with or without a waitlist, a fair window at T0, a raffle).
 */
export function DropForm({ room, token, clock }: { room: string; token: string; clock: ServerClock }) {
  const t = useI18n();
  const [title, setTitle] = useState("");
  const [price, setPrice] = useState("19.99");
  const [currency, setCurrency] = useState<string>("USD");
  const [stock, setStock] = useState(3);
  const [limit, setLimit] = useState(1);
  const [opensIn, setOpensIn] = useState(10);
  const [holdBack, setHoldBack] = useState(false);
  const [holdS, setHoldS] = useState(120);
  const [image, setImage] = useState(`${location.origin}/demo/product.svg`);
  const [mode, setMode] = useState<Mode>("fcfs");
  const [format, setFormat] = useState<FormFormat>("drop");
  const [windowAuto, setWindowAuto] = useState(true);
  const [windowS, setWindowS] = useState(3);
  const [raffleMin, setRaffleMin] = useState(5);
  const [waitlist, setWaitlist] = useState(true);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setMessage(undefined);
    const name = title.trim() || t("host.form.defaultTitle");
    try {
      const digits = minorDigits(currency);
      const priceMinor = Math.round(Number(price.replace(",", ".")) * 10 ** digits);
      const startsAt = Math.round(clock.now() + (holdBack ? HELD_BACK_MS : Math.max(0, opensIn) * 1000));
      await api(`/api/v1/rooms/${room}/drops`, {
        token,
        body: withFormat(
          {
            dropId: randomId("d").slice(0, 24),
            product: {
              sku: name.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 40) || "item",
              title: name,
              priceMinor,
              currency,
              imageUrl: image,
            },
            initialStock: stock,
            perUserLimit: limit,
            startsAt,
            holdMs: holdS * 1000,
            ...modeFields(mode, { windowAuto, windowS, raffleMin, waitlist }),
          },
          format,
        ),
      });
      setMessage({ ok: true, text: t("host.form.created", { title: name }) });
      setTitle("");
    } catch (err) {
      setMessage({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel" onSubmit={submit} aria-labelledby="drop-form-title" data-testid="drop-form">
      <h2 id="drop-form-title">{t("host.form.title")}</h2>
      <div class="form-grid">
        <label class="wide">
          {t("host.form.product")}
          <input
            name="title"
            required
            maxLength={200}
            value={title}
            placeholder={t("host.form.defaultTitle")}
            onInput={(e) => setTitle((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          {t("host.form.price")}
          <input
            name="price"
            inputMode="decimal"
            required
            pattern="[0-9]+([.,][0-9]{1,3})?"
            value={price}
            onInput={(e) => setPrice((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          {t("host.form.currency")}
          <select
            name="currency"
            value={currency}
            onChange={(e) => setCurrency((e.target as HTMLSelectElement).value)}
          >
            {CURRENCIES.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          {t("host.form.stock")}
          <input
            name="stock"
            type="number"
            min={0}
            required
            value={stock}
            onInput={(e) => setStock(Number((e.target as HTMLInputElement).value))}
          />
        </label>
        <label>
          {t("host.form.limit")}
          <input
            name="limit"
            type="number"
            min={1}
            required
            value={limit}
            onInput={(e) => setLimit(Number((e.target as HTMLInputElement).value))}
          />
        </label>
        <label>
          {t("host.form.opensIn")}
          <input
            name="opensIn"
            type="number"
            min={0}
            disabled={holdBack}
            value={opensIn}
            onInput={(e) => setOpensIn(Number((e.target as HTMLInputElement).value))}
          />
        </label>
        <label>
          {t("host.form.hold")}
          <input
            name="holdS"
            type="number"
            min={1}
            value={holdS}
            onInput={(e) => setHoldS(Number((e.target as HTMLInputElement).value))}
          />
        </label>
        <FormatSelect
          value={format}
          onChange={(f) => {
            setFormat(f);
            // A giveaway is a raffle; buy-it-now sells first come.
            if (f !== "drop") setMode(f === "giveaway" ? "raffle" : "fcfs");
          }}
        />
        <label>
          {t("host.form.mode")}
          <select
            name="mode"
            disabled={format !== "drop"}
            value={mode}
            onChange={(e) => setMode((e.target as HTMLSelectElement).value as Mode)}
            data-testid="drop-mode"
          >
            {MODES.map((m) => (
              <option key={m.id} value={m.id}>
                {t(m.label)}
              </option>
            ))}
          </select>
        </label>
        {mode === "fcfs" ? (
          <label class="check">
            <input
              type="checkbox"
              name="waitlist"
              checked={waitlist}
              onChange={(e) => setWaitlist((e.target as HTMLInputElement).checked)}
            />
            {t("host.form.waitlist")}
          </label>
        ) : null}
        {mode === "window" ? (
          <>
            <label class="check">
              <input
                type="checkbox"
                name="windowAuto"
                checked={windowAuto}
                onChange={(e) => setWindowAuto((e.target as HTMLInputElement).checked)}
              />
              {t("host.form.windowAuto")}
            </label>
            <label>
              {t("host.form.windowS")}
              <input
                name="windowS"
                type="number"
                min={0.5}
                max={60}
                step={0.5}
                disabled={windowAuto}
                value={windowS}
                onInput={(e) => setWindowS(Number((e.target as HTMLInputElement).value))}
              />
            </label>
          </>
        ) : null}
        {mode === "raffle" ? (
          <label>
            {t("host.form.raffleMin")}
            <input
              name="raffleMin"
              type="number"
              min={1}
              max={1440}
              value={raffleMin}
              onInput={(e) => setRaffleMin(Number((e.target as HTMLInputElement).value))}
            />
          </label>
        ) : null}
        <label class="wide check">
          <input
            type="checkbox"
            checked={holdBack}
            onChange={(e) => setHoldBack((e.target as HTMLInputElement).checked)}
          />
          {t("host.form.holdBack")}
        </label>
        <label class="wide">
          {t("host.form.image")}
          <input
            name="image"
            type="url"
            value={image}
            onInput={(e) => setImage((e.target as HTMLInputElement).value)}
          />
        </label>
      </div>
      <div class="row" style={{ marginTop: "8px" }}>
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="schedule">
          {t("host.form.submit")}
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
