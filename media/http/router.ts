import type { IncomingMessage, ServerResponse } from "node:http";
import type { RateLimiter } from "../../core/index.ts";
import type { Claims, TokenService } from "../../gateway/index.ts";
import { HttpRefusal, readJsonBody } from "./io.ts";

/** What a route handler gets: the matched path parts, the query, and lazy auth and body. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Capture groups of the route's path pattern, URL-decoded. */
  readonly params: string[];
  readonly query: URLSearchParams;
  /** The caller's verified claims: from `Authorization: Bearer`, or `token` when given. */
  claims(token?: string): Promise<Claims>;
  /** The JSON body (undefined when empty); 413 past the limit, 415 when not JSON. */
  body(): Promise<unknown>;
}

export interface Route {
  readonly method: "GET" | "POST" | "DELETE";
  readonly path: RegExp;
  readonly name: string;
  run(c: RouteContext): Promise<void>;
}

/** Largest JSON body the signaling API reads (RTP parameters of a few codecs fit many times). */
export const MAX_BODY_BYTES = 64 * 1024;

export function routeContext(
  req: IncomingMessage,
  res: ServerResponse,
  match: RegExpExecArray,
  query: URLSearchParams,
  tokens: TokenService,
  /** Requests per verified user (a token's holder), on top of the server's per-address limit. */
  userLimiter: RateLimiter,
): RouteContext {
  return {
    req,
    res,
    params: match.slice(1).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    }),
    query,
    async claims(explicit) {
      let token = explicit;
      if (token === undefined) {
        const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
        token = match?.[1];
      }
      if (!token) throw new HttpRefusal(401, "UNAUTHORIZED", "send Authorization: Bearer <token>");
      const verified = await tokens.verify(token);
      if (!verified.ok) throw new HttpRefusal(401, "UNAUTHORIZED", `token refused (${verified.reason})`);
      if (!userLimiter.take(verified.claims.userId))
        throw new HttpRefusal(429, "RATE_LIMITED", "too many signaling requests; slow down");
      return verified.claims;
    },
    body: () => readJsonBody(req, MAX_BODY_BYTES),
  };
}
