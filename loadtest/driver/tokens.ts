import { randomBytes } from "node:crypto";
import { TokenService } from "../../gateway/index.ts";
import { SHADOW_DISABLED } from "../lib/frames.ts";
import { type Api, ApiError } from "./api.ts";

/**
 * Where the driver gets tokens: signed locally with the stack's secret (a stack it started, or
 * `--token-secret` for staging), or, in shadow mode, from the admin endpoint, which only ever
 * hands out shadow tokens.
 */
export interface TokenSource {
  readonly shadow: boolean;
  viewers(count: number): Promise<string[]>;
  host(room: string): Promise<string>;
  /** An admin token, when the source has one (kill-switch checks). */
  readonly adminToken?: string;
}

/** The admin endpoint issues at most this many per request. */
const MAX_PER_REQUEST = 5_000;
const TTL_SECONDS = 6 * 3600;

export async function localTokens(secret: string): Promise<TokenSource & { admin(): Promise<string> }> {
  const service = await TokenService.create({ secret });
  const run = randomBytes(4).toString("hex");
  return {
    shadow: false,
    async viewers(count) {
      return Promise.all(
        Array.from({ length: count }, (_, i) =>
          service.issue({
            userId: `lt-${run}-${i}`,
            role: "viewer",
            name: `Load ${i}`,
            ttlSeconds: TTL_SECONDS,
          }),
        ),
      );
    },
    host: (room) =>
      service.issue({ userId: `lt-host-${run}`, role: "host", rooms: [room], ttlSeconds: TTL_SECONDS }),
    admin: () => service.issue({ userId: `lt-admin-${run}`, role: "admin", ttlSeconds: TTL_SECONDS }),
  };
}

export function shadowTokens(api: Api, adminToken: string): TokenSource {
  const mint = async (role: "viewer" | "host", count: number, rooms: string[] = []) => {
    const a = await api.shadowTokens(adminToken, role, count, rooms);
    if (a.status === 403 && a.code === SHADOW_DISABLED) {
      throw new ApiError(
        a.status,
        a.code,
        "shadow traffic is switched off (kill switch): PUT /api/v1/admin/shadow {enabled:true} to allow it",
      );
    }
    if (a.status !== 200 && a.status !== 201) throw new ApiError(a.status, a.code, "shadow tokens refused");
    return a.body?.tokens ?? [];
  };
  return {
    shadow: true,
    adminToken,
    async viewers(count) {
      const out: string[] = [];
      while (out.length < count)
        out.push(...(await mint("viewer", Math.min(MAX_PER_REQUEST, count - out.length))));
      return out;
    },
    host: async (room) => (await mint("host", 1, [room]))[0] ?? "",
  };
}
