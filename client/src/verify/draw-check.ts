/**
 * The browser's own check of a published draw, with WebCrypto only: it recomputes the order and
 * the allocation from the revealed seed and the entry list, and never reads the server's
 * `verified`. A second implementation on purpose (the engine's is sale-engine/draw.ts, on
 * node:crypto): an independent verifier. test/client/fair-draw-check.test.ts holds both to the
 * same answers. The construction, as sale-engine/draw.ts documents it:
 * - seedHash = SHA-256(seed bytes), hex; the seed is 64 lowercase hex chars (32 bytes);
 * - ticket of an entry = HMAC-SHA256(key = seed bytes, message = entry id as UTF-8), hex;
 * - order: entries sorted by entry id (code-unit order), then by ticket ascending (ties by id);
 * - allocation: walking the order with the stock left and each masked user's units so far, an
 *   entry gets min(qty, left, perUserLimit - units of its user); an entry the draw skipped (a
 *   giveaway's entrant not in the room at the draw) gets 0 and takes nothing.
 */

/** One published entry (GET /api/v1/drops/:dropId/draw `entries`). */
export interface PublishedEntry {
  readonly entry: string;
  readonly user: string;
  readonly qty: number;
  readonly granted: number;
  readonly position: number;
}

export interface PublishedDraw {
  readonly seedHash: string;
  readonly seed: string | null;
  readonly stock: number;
  readonly perUserLimit: number;
  readonly entries: readonly PublishedEntry[];
  /** Entry ids skipped at a giveaway's draw; absent or empty for other draws. */
  readonly skipped?: readonly string[];
}

export interface CheckedEntry {
  readonly entry: string;
  readonly user: string;
  readonly qty: number;
  /** What the server published for this entry (undefined: it is missing from the list). */
  readonly published: number | undefined;
  /** What the browser computes. */
  readonly granted: number;
}

export type Difference =
  | { readonly kind: "badSeed" }
  | { readonly kind: "hash"; readonly hash: string }
  | { readonly kind: "duplicate"; readonly entry: string }
  | { readonly kind: "unknownSkipped"; readonly entry: string }
  | { readonly kind: "order"; readonly position: number; readonly got: string; readonly want: string }
  | { readonly kind: "granted"; readonly entry: string; readonly got: number; readonly want: number };

export interface DrawCheck {
  readonly ok: boolean;
  /** SHA-256 of the seed equals the published hash. */
  readonly hashOk: boolean;
  /** SHA-256 of the seed, hex ("" when the seed is not valid hex). */
  readonly hash: string;
  /** The entries in the order the browser computes. */
  readonly entries: readonly CheckedEntry[];
  readonly differences: readonly Difference[];
}

const SEED_HEX = /^[0-9a-f]{64}$/;

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function bytesToHex(buf: ArrayBuffer): string {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function sha256Hex(seed: string): Promise<string> {
  return bytesToHex(await crypto.subtle.digest("SHA-256", hexToBytes(seed)));
}

/** A user's mask in a draw's published list: HMAC-SHA256(seed, "user:" + id), hex, first 32 chars. */
export async function maskOf(seed: string, userId: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    hexToBytes(seed),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`user:${userId}`));
  return bytesToHex(mac).slice(0, 32);
}

/** The entry ids in draw order for `seed` (a function of the seed and the set of ids only). */
export async function drawOrderOf(seed: string, entryIds: readonly string[]): Promise<string[]> {
  const key = await crypto.subtle.importKey(
    "raw",
    hexToBytes(seed),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const encoder = new TextEncoder();
  const canonical = [...entryIds].sort(compare);
  const tickets = new Map<string, string>();
  for (const id of canonical)
    tickets.set(id, bytesToHex(await crypto.subtle.sign("HMAC", key, encoder.encode(id))));
  return canonical.sort((a, b) => compare(tickets.get(a) ?? "", tickets.get(b) ?? "") || compare(a, b));
}

/** Recomputes `draw` and lists every way the published list differs from it. */
export async function checkDraw(draw: PublishedDraw): Promise<DrawCheck> {
  const seed = draw.seed ?? "";
  if (!SEED_HEX.test(seed))
    return { ok: false, hashOk: false, hash: "", entries: [], differences: [{ kind: "badSeed" }] };
  const differences: Difference[] = [];
  const hash = await sha256Hex(seed);
  const hashOk = hash === draw.seedHash;
  if (!hashOk) differences.push({ kind: "hash", hash });

  const byId = new Map<string, PublishedEntry>();
  for (const e of draw.entries) {
    if (byId.has(e.entry)) differences.push({ kind: "duplicate", entry: e.entry });
    else byId.set(e.entry, e);
  }
  const skipped = new Set(draw.skipped);
  for (const id of skipped) if (!byId.has(id)) differences.push({ kind: "unknownSkipped", entry: id });
  const order = await drawOrderOf(seed, [...byId.keys()]);
  let left = draw.stock;
  const units = new Map<string, number>();
  const entries = order.map((id): CheckedEntry => {
    const e = byId.get(id) as PublishedEntry;
    const used = units.get(e.user) ?? 0;
    const granted = skipped.has(id) ? 0 : Math.max(0, Math.min(e.qty, left, draw.perUserLimit - used));
    left -= granted;
    units.set(e.user, used + granted);
    if (granted !== e.granted)
      differences.push({ kind: "granted", entry: id, got: e.granted, want: granted });
    return { entry: id, user: e.user, qty: e.qty, published: e.granted, granted };
  });

  // The published order: by position (what the server says it drew), compared place by place.
  const listed = [...draw.entries].sort((a, b) => a.position - b.position);
  for (const [i, want] of entries.entries()) {
    const got = listed[i]?.entry ?? "";
    if (got !== want.entry) differences.push({ kind: "order", position: i + 1, got, want: want.entry });
  }
  return { ok: differences.length === 0, hashOk, hash, entries, differences };
}
