import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ValidationError } from "../core/index.ts";

/**
 * The verifiable draw of a fair window: pure functions of (seed, entries), no Redis, so a buyer
 * or an auditor recomputes the allocation with only what the drop published.
 *
 * Construction (see docs/architecture/sale-engine.md, "Fair window"):
 * - seed: 32 random bytes chosen when the drop is created, written as 64 lowercase hex chars;
 *   `seedHash` = SHA-256(seed bytes), hex, published with the drop before T0.
 * - entries are listed canonically, sorted by entry id (code-unit order), so nothing depends on
 *   arrival order; each entry's ticket is HMAC-SHA256(key = seed bytes, message = entry id as
 *   UTF-8), hex; the draw order is the entries by ticket, ascending (ties by entry id).
 * - allocation: walking that order with `left` = the stock at the close of the window and no
 *   units per user yet, each entry gets min(its qty, left, perUserLimit - units its user got
 *   so far); an entry that gets 0 lost, any other won `granted` units (the last winner may get
 *   fewer than it asked for).
 * - a giveaway's draw lists the entries it skipped (their users were not in the room at the draw,
 *   see docs/giveaways.md): a skipped entry gets 0 and takes nothing from `left` or its user's
 *   units, so the walk over the whole order equals the walk over the present entries alone.
 * - users appear masked: HMAC-SHA256(seed bytes, "user:" + user id), hex, first 32 chars. The
 *   same user has the same mask in one drop, so the per-user limit is checkable, and a buyer
 *   finds their own entries by computing their mask.
 */

export const SEED_BYTES = 32;
const SEED_HEX = /^[0-9a-f]{64}$/;
const MASK_CHARS = 32;

/** One entry of the draw as published: id, its user (masked), units asked for. */
export interface DrawEntry {
  readonly entryId: string;
  readonly user: string;
  readonly qty: number;
}

/** What the allocation is computed from, besides the seed. */
export interface DrawInput {
  /** Units available when the window closed. */
  readonly stock: number;
  readonly perUserLimit: number;
  readonly entries: readonly DrawEntry[];
  /** Entry ids the draw skipped (absent at a giveaway's draw): they get 0. Omitted: none. */
  readonly skipped?: readonly string[];
}

/** An entry's outcome, in draw order: `granted` 0 means it lost. */
export interface DrawResult {
  readonly entryId: string;
  readonly user: string;
  readonly qty: number;
  readonly granted: number;
}

/** A fresh seed (hex) and its commitment. */
export function newSeed(): { seed: string; seedHash: string } {
  const seed = randomBytes(SEED_BYTES).toString("hex");
  return { seed, seedHash: seedHashOf(seed) };
}

export function isSeed(seed: string): boolean {
  return SEED_HEX.test(seed);
}

/** SHA-256 of the seed's bytes, hex: the commitment published before T0. */
export function seedHashOf(seed: string): string {
  return createHash("sha256").update(seedBytes(seed)).digest("hex");
}

/** An entry's ticket: HMAC-SHA256(seed, entry id), hex. */
export function ticketOf(seed: string, entryId: string): string {
  return createHmac("sha256", seedBytes(seed)).update(entryId, "utf8").digest("hex");
}

/** A user's mask in the published entry list of a drop drawn with `seed`. */
export function maskUser(seed: string, userId: string): string {
  return createHmac("sha256", seedBytes(seed))
    .update(`user:${userId}`, "utf8")
    .digest("hex")
    .slice(0, MASK_CHARS);
}

/** The entries in draw order (a function of the seed and the set of entries only). */
export function drawOrder<E extends { readonly entryId: string }>(seed: string, entries: readonly E[]): E[] {
  const canonical = [...entries].sort((a, b) => compare(a.entryId, b.entryId));
  const tickets = new Map(canonical.map((e) => [e.entryId, ticketOf(seed, e.entryId)]));
  return canonical.sort(
    (a, b) =>
      compare(tickets.get(a.entryId) ?? "", tickets.get(b.entryId) ?? "") || compare(a.entryId, b.entryId),
  );
}

/** Walks the draw order giving each entry min(qty, stock left, the user's remaining limit). */
export function allocate(seed: string, input: DrawInput): DrawResult[] {
  let left = input.stock;
  const units = new Map<string, number>();
  const skipped = new Set(input.skipped);
  return drawOrder(seed, input.entries).map((e) => {
    const used = units.get(e.user) ?? 0;
    const granted = skipped.has(e.entryId)
      ? 0
      : Math.max(0, Math.min(e.qty, left, input.perUserLimit - used));
    left -= granted;
    units.set(e.user, used + granted);
    return { entryId: e.entryId, user: e.user, qty: e.qty, granted };
  });
}

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Checks a published draw: the seed matches its commitment, entry ids are unique, and the
 * allocation (in draw order) is exactly what `allocate` computes from (seed, input).
 */
export function verifyDraw(
  seed: string,
  seedHash: string,
  input: DrawInput,
  allocation: readonly Pick<DrawResult, "entryId" | "granted">[],
): VerifyResult {
  if (!isSeed(seed)) return { ok: false, reason: "the seed is not 64 lowercase hex characters" };
  if (!sameHex(seedHashOf(seed), seedHash)) return { ok: false, reason: "the seed does not match its hash" };
  if (new Set(input.entries.map((e) => e.entryId)).size !== input.entries.length)
    return { ok: false, reason: "an entry id appears twice" };
  const ids = new Set(input.entries.map((e) => e.entryId));
  if (input.skipped?.some((id) => !ids.has(id))) return { ok: false, reason: "a skipped id is not an entry" };
  const expected = allocate(seed, input);
  if (allocation.length !== expected.length)
    return { ok: false, reason: `${allocation.length} results for ${expected.length} entries` };
  for (const [i, want] of expected.entries()) {
    const got = allocation[i];
    if (got?.entryId !== want.entryId)
      return { ok: false, reason: `position ${i}: entry ${got?.entryId}, the draw gives ${want.entryId}` };
    if (got.granted !== want.granted)
      return {
        ok: false,
        reason: `entry ${want.entryId}: ${got.granted} granted, the draw gives ${want.granted}`,
      };
  }
  return { ok: true };
}

function seedBytes(seed: string): Buffer {
  if (!isSeed(seed))
    throw new ValidationError("a draw seed is 64 lowercase hex characters", { reason: "BAD_SEED" });
  return Buffer.from(seed, "hex");
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
