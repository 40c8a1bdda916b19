import { fail } from "k6";
import { SharedArray } from "k6/data";
import { SHADOW_DISABLED } from "../../lib/frames.ts";
import { api, call, errorCode, json } from "./api.ts";
import type { K6Config } from "./config.ts";

/**
 * Where a virtual user's token comes from, in order of preference:
 * 1. TOKENS_FILE: a JSON file of viewer tokens (`npm run loadtest -- tokens --count N`), loaded once
 *    into a SharedArray (one copy for all VUs);
 * 2. shadow mode: setup() mints one token per VU in batches of TOKEN_BATCH (one request per batch,
 *    not per VU) and hands them over in the setup data; VU n takes token n. k6 copies setup data
 *    into every VU, so each VU holds all the tokens: past a few thousand VUs a TOKENS_FILE is lighter;
 * 3. real traffic (SHADOW=0): each VU asks for a guest token (rate-limited per address: small runs).
 * A VU that ends up without a token gets undefined here, never an exception: the caller counts it.
 */

/** What setup() hands the VUs for their tokens. */
export interface SetupTokens {
  readonly tokens?: readonly string[];
  /** Why minting stopped short (the summary's notes show it). */
  readonly tokenError?: string;
}

/** Call in the init context (module top level): SharedArray and open() exist only there. */
export function tokenPool(cfg: K6Config): string[] {
  if (!cfg.tokensFile) return [];
  return new SharedArray("viewer tokens", () => {
    const parsed = JSON.parse(open(cfg.tokensFile)) as { tokens?: string[] } | string[];
    const tokens = Array.isArray(parsed) ? parsed : (parsed.tokens ?? []);
    if (tokens.length === 0) throw new Error(`${cfg.tokensFile} holds no tokens`);
    return tokens;
  });
}

type Minted = { tokens: string[] } | { error: string };

/** One request to the admin endpoint; a refusal comes back as `error`, the kill switch fails setup. */
function mintBatch(cfg: K6Config, role: "viewer" | "host", count: number, rooms: string[]): Minted {
  if (!cfg.adminToken) fail("shadow mode needs ADMIN_TOKEN (npx livedrop token --role admin) or TOKENS_FILE");
  const res = call(
    cfg,
    "POST",
    "/api/v1/admin/shadow/tokens",
    { step: "token", route: "/api/v1/admin/shadow/tokens" },
    cfg.adminToken,
    { role, count, ...(rooms.length ? { rooms } : {}), ttlSeconds: 6 * 3600 },
  );
  if (res.status === 403 && errorCode(res) === SHADOW_DISABLED)
    fail("shadow traffic is switched off (PUT /api/v1/admin/shadow {enabled:true} turns it on)");
  const tokens = json<{ tokens?: string[] }>(res)?.tokens;
  if (res.status >= 300 || !tokens?.length) return { error: `HTTP ${res.status} ${errorCode(res)}` };
  return { tokens };
}

/** Shadow tokens from the admin endpoint (all carry the shadow claim); setup() only. */
export function mintShadowTokens(
  cfg: K6Config,
  role: "viewer" | "host",
  count: number,
  rooms: string[] = [],
): string[] {
  const minted = mintBatch(cfg, role, count, rooms);
  if ("error" in minted) fail(`shadow tokens refused: ${minted.error}`);
  return minted.tokens;
}

/**
 * setup(): one token per VU of the test, in batches, when neither TOKENS_FILE nor real traffic
 * applies. A batch that is refused stops the minting: the VUs past it run without a token and
 * count as `viewer_failures{reason:token}` (the run then fails its viewers_connected threshold).
 * Nothing minted at all fails setup: there would be nothing to measure.
 */
export function setupTokens(cfg: K6Config, pool: readonly string[], vus: number): SetupTokens {
  if (pool.length > 0 || !cfg.shadow) return {};
  const tokens: string[] = [];
  while (tokens.length < vus) {
    const minted = mintBatch(cfg, "viewer", Math.min(cfg.tokenBatch, vus - tokens.length), []);
    if ("error" in minted) {
      if (tokens.length === 0) fail(`shadow tokens refused: ${minted.error}`);
      return {
        tokens,
        tokenError: `minted ${tokens.length} of ${vus} viewer tokens, then refused: ${minted.error}`,
      };
    }
    tokens.push(...minted.tokens);
  }
  return { tokens };
}

let mine: string | undefined;
let guestTried = false;

/** This VU's viewer token, or undefined when it has none (never throws). */
export function viewerToken(
  cfg: K6Config,
  pool: readonly string[],
  data: SetupTokens,
  vuId: number,
): string | undefined {
  if (pool.length > 0) return pool[(vuId - 1) % pool.length];
  // A VU past the minted ones has none: sharing another VU's token would make two VUs one user.
  if (cfg.shadow) return data.tokens?.[vuId - 1];
  if (mine || guestTried) return mine;
  guestTried = true;
  mine = json<{ token?: string }>(api.guestToken(cfg))?.token;
  return mine;
}

/** The host token for setup: HOST_TOKEN, or a shadow host of the run's room. */
export function hostToken(cfg: K6Config): string {
  if (cfg.hostToken) return cfg.hostToken;
  if (!cfg.shadow) fail("real traffic (SHADOW=0) needs HOST_TOKEN for the room's host");
  return mintShadowTokens(cfg, "host", 1, [cfg.room])[0] ?? "";
}
