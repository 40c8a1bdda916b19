import { randomBytes } from "node:crypto";
import { TokenService } from "../../auth/index.ts";
import { SHADOW_DISABLED } from "../lib/frames.ts";
import { type Api, ApiError } from "./api.ts";
import { DEFAULT_TOKEN_BATCH } from "./options.ts";

/**
 * Where the driver gets tokens: signed locally with the stack's secret (a stack it started, or
 * `--token-secret` for staging), or, in shadow mode, from the admin endpoint, which only ever
 * hands out shadow tokens.
 */
/** Viewer tokens asked for; fewer than asked when minting stopped (`error` says why). */
export interface MintResult {
  readonly tokens: string[];
  readonly error?: string;
}

export interface TokenSource {
  readonly shadow: boolean;
  /** Never rejects for a refused batch: what was minted comes back, with the refusal. */
  viewers(count: number): Promise<MintResult>;
  host(room: string): Promise<string>;
  /** An admin token, when the source has one (kill-switch checks). */
  readonly adminToken?: string;
}

const TTL_SECONDS = 6 * 3600;

export async function localTokens(secret: string): Promise<TokenSource & { admin(): Promise<string> }> {
  const service = await TokenService.create({ secret });
  const run = randomBytes(4).toString("hex");
  // Each call's viewers are new users (full-link asks twice: watchers, then shoppers).
  let next = 0;
  return {
    shadow: false,
    async viewers(count) {
      const tokens = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          service.issue({
            userId: `lt-${run}-${next + i}`,
            role: "viewer",
            name: `Load ${next + i}`,
            ttlSeconds: TTL_SECONDS,
          }),
        ),
      );
      next += count;
      return { tokens };
    },
    host: (room) =>
      service.issue({ userId: `lt-host-${run}`, role: "host", rooms: [room], ttlSeconds: TTL_SECONDS }),
    admin: () => service.issue({ userId: `lt-admin-${run}`, role: "admin", ttlSeconds: TTL_SECONDS }),
  };
}

/**
 * Shadow tokens from the admin endpoint, `batch` viewers a request (one request per batch, never
 * one per viewer). A refused batch ends the minting: the viewers past it have no token and the
 * run counts them (`viewer_failures{reason:token}`). The kill switch still throws: the SREs
 * stopped shadow traffic, so the run must not go on.
 */
export function shadowTokens(api: Api, adminToken: string, batch = DEFAULT_TOKEN_BATCH): TokenSource {
  type Minted = { tokens: string[] } | { error: string; status: number; code: string };
  const mint = async (role: "viewer" | "host", count: number, rooms: string[] = []): Promise<Minted> => {
    const a = await api.shadowTokens(adminToken, role, count, rooms);
    if (a.status === 403 && a.code === SHADOW_DISABLED) {
      throw new ApiError(
        a.status,
        a.code,
        "shadow traffic is switched off (kill switch): PUT /api/v1/admin/shadow {enabled:true} to allow it",
      );
    }
    if ((a.status !== 200 && a.status !== 201) || !a.body?.tokens?.length)
      return { error: `HTTP ${a.status} ${a.code}`, status: a.status, code: a.code };
    return { tokens: a.body.tokens };
  };
  return {
    shadow: true,
    adminToken,
    async viewers(count) {
      const tokens: string[] = [];
      while (tokens.length < count) {
        const m = await mint("viewer", Math.min(Math.max(1, batch), count - tokens.length));
        if ("error" in m) return { tokens, error: `shadow tokens refused: ${m.error}` };
        tokens.push(...m.tokens);
      }
      return { tokens };
    },
    host: async (room) => {
      const m = await mint("host", 1, [room]);
      if ("error" in m) throw new ApiError(m.status, m.code, "shadow host token refused");
      return m.tokens[0] ?? "";
    },
  };
}
