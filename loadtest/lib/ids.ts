/**
 * Request ids and idempotency keys. Math.random is enough here (no crypto in k6's core runtime
 * that both sides share): a key only has to be unique per user and drop, and each carries a
 * per-process prefix plus a counter.
 */
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export function randomId(length = 10, random: () => number = Math.random): string {
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(random() * ALPHABET.length)] ?? "x";
  return out;
}

/** `prefix-<random>-<n>`: unique within a run, within the wire's 1-64 `[A-Za-z0-9_.:-]`. */
export function idFactory(prefix: string): () => string {
  const base = `${prefix}-${randomId(8)}`;
  let n = 0;
  return () => `${base}-${(n++).toString(36)}`;
}

/** A drop id for one load-test run (`lt-<scenario>-<random>`), valid for the sale engine. */
export function runDropId(scenario: string): string {
  return `lt-${scenario.replace(/[^A-Za-z0-9_-]/g, "")}-${randomId(10)}`;
}
