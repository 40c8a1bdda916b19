import { type DrawResponse, drawResponseSchema } from "../protocol/index.ts";
import { maskUser, type VerifyResult, verifyDraw } from "../sale-engine/index.ts";
import type { Outcome } from "./fairness-room.ts";

/**
 * GET /api/v1/drops/:dropId/draw (public, no token), checked against its protocol schema; a
 * refusal (409 while not drawn, 404) is a string saying so, for the run to report unverified.
 */
export async function fetchDraw(
  base: string,
  dropId: string,
  timeoutMs: number,
): Promise<DrawResponse | string> {
  const res = await fetch(`${base}/api/v1/drops/${encodeURIComponent(dropId)}/draw`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) return `HTTP ${res.status} ${text.slice(0, 200)}`;
  return drawResponseSchema.parse(JSON.parse(text));
}

/**
 * The published draw recomputed here with the sale engine's verifier (as a buyer would), and
 * compared with what the viewers were told: viewer i (user `viewer-i`) finds its entry by its
 * mask, and its `entry` frame must say won exactly when the draw granted it units.
 */
export function checkDraw(
  draw: DrawResponse,
  outcomes: readonly Outcome[],
): { local: VerifyResult; matchesResults: boolean; note: string } {
  if (!draw.seed)
    return { local: { ok: false, reason: "seed not revealed" }, matchesResults: false, note: "" };
  const seed = draw.seed;
  const local = verifyDraw(
    seed,
    draw.seedHash,
    {
      stock: draw.stock,
      perUserLimit: draw.perUserLimit,
      entries: draw.entries.map((e) => ({ entryId: e.entry, user: e.user, qty: e.qty })),
    },
    draw.entries.map((e) => ({ entryId: e.entry, granted: e.granted })),
  );
  const grantedByMask = new Map<string, number>();
  for (const e of draw.entries) grantedByMask.set(e.user, (grantedByMask.get(e.user) ?? 0) + e.granted);
  let told = 0;
  let mismatched = 0;
  outcomes.forEach((o, i) => {
    if (!o.result) return;
    told += 1;
    const granted = grantedByMask.get(maskUser(seed, `viewer-${i}`));
    if (granted === undefined || (o.result.status === "won") !== granted > 0 || o.result.granted !== granted)
      mismatched += 1;
  });
  return {
    local,
    matchesResults: mismatched === 0,
    note: `${draw.entries.length} entries published; ${told} results told, ${mismatched} not as the draw says`,
  };
}
