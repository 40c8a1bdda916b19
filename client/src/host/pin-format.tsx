import type { DropFormat } from "../../../protocol/index.ts";
import { useI18n } from "../shared/i18n.ts";

/** The formats the drop form creates (auctions have their own form). */
export type FormFormat = Exclude<DropFormat, "auction">;

const FORMATS: readonly { id: FormFormat; label: "pin.format.drop" | "giveaway.mode" | "pin.mode" }[] = [
  { id: "drop", label: "pin.format.drop" },
  { id: "giveaway", label: "giveaway.mode" },
  { id: "buy_now", label: "pin.mode" },
];

/**
 * The drop definition for a format: a giveaway is a raffle of a free product; buy-it-now opens
 * when created (no start, no window) and sells once the host pins it.
 */
export function withFormat(body: Record<string, unknown>, format: FormFormat): Record<string, unknown> {
  if (format === "drop") return body;
  const { fairWindowMs: _w, waitlist: _l, raffleWindowMs, startsAt, ...rest } = body;
  if (format === "giveaway") {
    const product = body.product as Record<string, unknown>;
    return { ...rest, startsAt, raffleWindowMs, format, product: { ...product, priceMinor: 0 } };
  }
  return { ...rest, ...(body.waitlist === false ? { waitlist: false } : {}), format };
}

/** The drop form's format select. */
export function FormatSelect({ value, onChange }: { value: FormFormat; onChange: (f: FormFormat) => void }) {
  const t = useI18n();
  return (
    <label>
      {t("pin.format")}
      <select
        name="format"
        value={value}
        data-testid="drop-format"
        onChange={(e) => onChange((e.target as HTMLSelectElement).value as FormFormat)}
      >
        {FORMATS.map((f) => (
          <option key={f.id} value={f.id}>
            {t(f.label)}
          </option>
        ))}
      </select>
    </label>
  );
}
