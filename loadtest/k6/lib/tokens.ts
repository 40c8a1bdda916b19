import { fail } from "k6";
import { SharedArray } from "k6/data";
import { SHADOW_DISABLED } from "../../lib/frames.ts";
import { api, call, errorCode, json } from "./api.ts";
import type { K6Config } from "./config.ts";

/**
 * Where a virtual user's token comes from, in order of preference:
 * 1. TOKENS_FILE: a JSON file of viewer tokens (`npm run loadtest -- tokens --count N`), loaded once
 *    into a SharedArray (one copy for all VUs; setup data would be copied into every VU);
 * 2. shadow mode with ADMIN_TOKEN: each VU asks the admin endpoint for one shadow token;
 * 3. real traffic (SHADOW=0): a guest token (rate-limited per address: small runs only).
 */

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

/** Shadow tokens from the admin endpoint (all carry the shadow claim). */
export function mintShadowTokens(
  cfg: K6Config,
  role: "viewer" | "host",
  count: number,
  rooms: string[] = [],
): string[] {
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
  if (res.status >= 300 || !tokens?.length)
    fail(`shadow tokens refused: HTTP ${res.status} ${errorCode(res)}`);
  return tokens;
}

let mine: string | undefined;

/** This VU's viewer token (fetched once per VU, then reused across its iterations). */
export function viewerToken(cfg: K6Config, pool: readonly string[], vuId: number): string {
  if (pool.length > 0) return pool[(vuId - 1) % pool.length] ?? "";
  if (mine) return mine;
  if (cfg.shadow) {
    mine = mintShadowTokens(cfg, "viewer", 1)[0] ?? "";
  } else {
    const res = api.guestToken(cfg);
    mine = json<{ token?: string }>(res)?.token;
    if (!mine) fail(`guest token refused: HTTP ${res.status} ${errorCode(res)}`);
  }
  return mine;
}

/** The host token for setup: HOST_TOKEN, or a shadow host of the run's room. */
export function hostToken(cfg: K6Config): string {
  if (cfg.hostToken) return cfg.hostToken;
  if (!cfg.shadow) fail("real traffic (SHADOW=0) needs HOST_TOKEN for the room's host");
  return mintShadowTokens(cfg, "host", 1, [cfg.room])[0] ?? "";
}
