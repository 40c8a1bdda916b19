import { ValidationError } from "../core/index.ts";

/** `90`, `90s`, `1500ms`, `5m`, `1h` -> milliseconds (a bare number is seconds). */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new ValidationError(`${flag}: expected a duration like 90s, 5m, 1500ms; got "${value}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * unit);
}

/**
 * A point in time on the server clock: ISO 8601, ms epoch, or `+DURATION` relative to
 * `serverNow` (Redis TIME, so a host's skewed laptop clock does not move the drop).
 */
export function parseTime(value: string, flag: string, serverNow: number): number {
  const v = value.trim();
  if (v.startsWith("+")) return serverNow + parseDuration(v.slice(1), flag);
  if (/^\d{12,}$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t))
    throw new ValidationError(`${flag}: expected ISO 8601, ms epoch or +DURATION; got "${value}"`);
  return t;
}

/** A whole number from a flag, or a ValidationError naming the flag. */
export function parseInteger(value: string | undefined, flag: string): number {
  if (value === undefined) throw new ValidationError(`${flag} is required`);
  if (!/^-?\d+$/.test(value.trim()))
    throw new ValidationError(`${flag}: expected a whole number; got "${value}"`);
  return Number(value);
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new ValidationError(`${flag} is required`);
  return value;
}

/** `12.99` -> 1299 minor units (two decimals; use --price-minor for other currencies). */
export function parsePrice(value: string, flag: string): number {
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(value.trim());
  if (!m) throw new ValidationError(`${flag}: expected a price like 12.99; got "${value}"`);
  return Number(m[1]) * 100 + Number((m[2] ?? "0").padEnd(2, "0"));
}
