import { stringify } from "csv-stringify/sync";

/** What a spreadsheet would run as a formula when a cell starts with it (CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A cell as text a spreadsheet shows as it is: a text cell starting with = + - @ (or a tab or CR)
 * gets a leading apostrophe, so Excel, Sheets and BI imports take it for text, not a formula.
 * Numbers stay numbers (a negative amount is not a formula).
 */
export function safeCell(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "boolean") return value;
  const text = String(value);
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/**
 * RFC 4180 CSV (CRLF line ends, quoted where needed) with one header line of `columns`, then one
 * line per row in that column order.
 */
export function toCsv<R extends object>(columns: readonly (keyof R & string)[], rows: readonly R[]): string {
  const records = rows.map((r) => columns.map((c) => safeCell((r as Record<string, unknown>)[c])));
  return stringify([[...columns], ...records], {
    record_delimiter: "windows",
    cast: { boolean: (b) => (b ? "true" : "false") },
  });
}
