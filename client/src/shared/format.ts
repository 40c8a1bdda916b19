import { lang } from "./i18n.ts";

/** Prices are integers in the currency's minor unit (cents, fen). */
export function money(minor: number, currency: string): string {
  try {
    const fmt = new Intl.NumberFormat(lang(), { style: "currency", currency });
    const digits = fmt.resolvedOptions().maximumFractionDigits ?? 2;
    return fmt.format(minor / 10 ** digits);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

/** mm:ss, or h:mm:ss past an hour; never negative. */
export function clockText(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, "0");
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

export function count(n: number): string {
  return new Intl.NumberFormat(lang(), { notation: n >= 10_000 ? "compact" : "standard" }).format(n);
}

export function percent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return "–";
  return new Intl.NumberFormat(lang(), { style: "percent", maximumFractionDigits: 1 }).format(ratio);
}
