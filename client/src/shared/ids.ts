/** Random ids for request correlation and idempotency keys (charset the protocol accepts). */
export function randomId(prefix = ""): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += b.toString(36).padStart(2, "0");
  return `${prefix}${s}`.slice(0, 64);
}
