import type { HttpRequest, HttpResponse, TemplatedApp } from "uWebSockets.js";
import type { RateLimiter } from "../../core/index.ts";
import type { Claims, TokenService } from "../auth/index.ts";
import { type HandlerContext, HttpRefusal, handle } from "./handler.ts";
import { readJsonBody } from "./read-body.ts";
import { type GuardedResponse, guard } from "./respond.ts";

/** Largest JSON body the API reads; bigger ones are 413 before parsing. */
export const MAX_BODY_BYTES = 16 * 1024;

export interface ApiRouterDeps extends HandlerContext {
  readonly tokens: TokenService;
  /** Per client IP, for every API call. */
  readonly ipLimiter: RateLimiter;
}

/** What a handler needs from the request, read synchronously (uWS requests die on return). */
export interface RequestInfo {
  readonly params: string[];
  readonly authorization: string;
  readonly contentType: string;
  readonly ip: string;
  /** The raw query string ("" when none); routes that take parameters parse it. */
  readonly query: string;
}

function info(req: HttpRequest, res: HttpResponse, paramCount: number): RequestInfo {
  return {
    params: Array.from({ length: paramCount }, (_, i) => req.getParameter(i) ?? ""),
    authorization: req.getHeader("authorization"),
    contentType: req.getHeader("content-type"),
    ip: Buffer.from(res.getRemoteAddressAsText()).toString(),
    query: req.getQuery() ?? "",
  };
}

export type RouteHandler = (
  i: RequestInfo,
  g: GuardedResponse,
  body: () => Promise<unknown>,
) => Promise<void>;

/**
 * JSON routes on uWS with the pitfalls handled once: the request and the body stream are read
 * before the handler's first await, every route is rate-limited per address, and errors become
 * `{error:{code,message}}` with their status (handler.ts).
 */
export function apiRouter(app: TemplatedApp, d: ApiRouterDeps) {
  const route = (
    method: "get" | "post" | "put",
    pattern: string,
    name: string,
    paramCount: number,
    fn: RouteHandler,
  ) =>
    app[method](pattern, (res, req) => {
      // Everything uWS hands us is read now: the request, and the body stream (onData must be
      // attached before this callback returns, or the chunks are gone).
      const i = info(req, res, paramCount);
      const g = guard(res);
      const body =
        method === "get" ? Promise.resolve(undefined) : readJsonBody(g, i.contentType, MAX_BODY_BYTES);
      body.catch(() => undefined); // refused bodies surface when (and if) the handler awaits them
      handle(d, name, g, async () => {
        if (!d.ipLimiter.take(i.ip))
          throw new HttpRefusal(429, "RATE_LIMITED", "too many requests; slow down");
        await fn(i, g, () => body);
      });
    });

  /** The verified claims of `Authorization: Bearer <token>`, or 401. */
  const claimsOf = async (i: RequestInfo): Promise<Claims> => {
    const match = /^Bearer (\S+)$/.exec(i.authorization);
    if (!match?.[1]) throw new HttpRefusal(401, "UNAUTHORIZED", "send Authorization: Bearer <token>");
    const verified = await d.tokens.verify(match[1]);
    if (!verified.ok) throw new HttpRefusal(401, "UNAUTHORIZED", `token refused (${verified.reason})`);
    return verified.claims;
  };

  return { route, claimsOf };
}
