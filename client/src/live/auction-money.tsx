/** Amounts typed in major units (12.50) and sent in minor units (1250), per the currency's digits. */
export function minorDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ??
      2
    );
  } catch {
    return 2;
  }
}

/** A typed amount in minor units; undefined when it is not a non-negative number. */
export function toMinor(text: string, digits: number): number | undefined {
  const s = text.trim().replace(",", ".");
  if (!/^\d+(\.\d+)?$/.test(s)) return undefined;
  const n = Math.round(Number(s) * 10 ** digits);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Minor units as the plain number a buyer types (no currency sign). */
export function toMajor(minor: number, digits: number): string {
  return (minor / 10 ** digits).toFixed(digits);
}
