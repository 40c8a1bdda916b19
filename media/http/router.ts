import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { type Claims, canHost, type TokenService } from "../../auth/index.ts";
import { type RateLimiter, validate } from "../../core/index.ts";
import { roomIdSchema } from "../../protocol/index.ts";
import { HttpRefusal, readJsonBody } from "./io.ts";

/**
 * Who may call a route; the router checks it before the handler runs.
 * - `public`: no token needed (HLS, health, metrics);
 * - `viewer`: any valid token (viewer, moderator, host, admin);
 * - `host`: a host of the route's room (`(?<room>…)` in its path) or an admin;
 * - `admin`: the admin role.
 * The media tier has no shadow (load-test) lane: a token with the shadow claim passes `public`
 * and `viewer` rules only, and only while shadow traffic is on; it never passes `host` or
 * `admin`. While shadow traffic is off, every route refuses a shadow token (403 SHADOW_DISABLED).
 */
export type Rule = "public" | "viewer" | "host" | "admin";
export const RULES: readonly Rule[] = ["public", "viewer", "host", "admin"];

/** What a handler gets once its rule passed: the room, the caller and the validated body. */
export interface RouteContext<B = undefined> {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Capture groups of the route's path pattern, URL-decoded. */
  readonly params: string[];
  readonly query: URLSearchParams;
  /** The `room` group of the path, validated; "" for routes without one. */
  readonly room: string;
  /** The caller's verified claims; undefined on public routes. */
  readonly claims: Claims | undefined;
  /** The body parsed with the route's schema (undefined for routes without one). */
  readonly body: B;
}

export interface Route<B = undefined> {
  readonly method: "GET" | "POST" | "DELETE";
  readonly path: RegExp;
  readonly name: string;
  /** Required: a route without a rule does not type-check, and the server refuses it at start. */
  readonly rule: Rule;
  /** Raises a `viewer` rule to `host` when the body asks for host rights (a send transport). */
  readonly hostIf?: (body: B) => boolean;
  /** Where the token is read: the Authorization header, or `?token=` (EventSource sends no headers). */
  readonly tokenIn?: "header" | "query";
  /** The JSON body's schema; an empty body is validated as `{}`. Without one the body is not read. */
  readonly body?: z.ZodType<B>;
  run(c: RouteContext<B>): Promise<void>;
}

/** A route of any body type (the list the server holds). */
// biome-ignore lint/suspicious/noExplicitAny: erased body type, checked by defineRoute.
export type AnyRoute = Route<any>;

/** Keeps the body type of one route while it joins a list of routes with other bodies. */
export function defineRoute<B = undefined>(r: Route<B>): AnyRoute {
  return r;
}

/** A route's rule as the table test and the README read it. */
export interface RouteRule {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly rule: Rule;
  /** True when a body can raise the rule to `host`. */
  readonly hostIf: boolean;
}

/** Throws at start-up on a route with no valid rule, or a host rule without a room in its path. */
export function checkRoutes(routes: readonly AnyRoute[]): RouteRule[] {
  const names = new Set<string>();
  return routes.map((r) => {
    if (!RULES.includes(r.rule)) throw new Error(`media route ${r.name} declares no access rule`);
    if (names.has(r.name)) throw new Error(`media route name ${r.name} is used twice`);
    names.add(r.name);
    if ((r.rule === "host" || r.hostIf) && !r.path.source.includes("(?<room>"))
      throw new Error(`media route ${r.name} needs a host but its path names no (?<room>) group`);
    return {
      name: r.name,
      method: r.method,
      path: r.path.source,
      rule: r.rule,
      hostIf: r.hostIf !== undefined,
    };
  });
}

/** Largest JSON body the signaling API reads (RTP parameters of a few codecs fit many times). */
export const MAX_BODY_BYTES = 64 * 1024;

export interface Gate {
  readonly tokens: TokenService;
  /** Requests per verified user (a token's holder), on top of the server's per-address limit. */
  readonly userLimiter: RateLimiter;
  /** The shadow kill switch: false refuses every shadow token. */
  readonly shadowEnabled: () => boolean;
}

const shadowDisabled = () =>
  new HttpRefusal(403, "SHADOW_DISABLED", "shadow (load-test) traffic is switched off");

/**
 * The one place the lane and role rules are enforced: token, kill switch, rule, then body, in
 * that order, so a refused caller never makes the server read its body. A rule a body can raise
 * (`hostIf`) is checked again once the body is valid.
 */
export async function admit(
  route: AnyRoute,
  req: IncomingMessage,
  res: ServerResponse,
  match: RegExpExecArray,
  query: URLSearchParams,
  gate: Gate,
): Promise<RouteContext<unknown>> {
  const params = match.slice(1).map(decode);
  const rawRoom = match.groups?.room;
  const room = rawRoom === undefined ? "" : validate(roomIdSchema, decode(rawRoom), "room id");
  const token = route.tokenIn === "query" ? (query.get("token") ?? undefined) : bearer(req);

  let claims: Claims | undefined;
  if (route.rule === "public") {
    // Public routes ignore identity, but load-test traffic that names itself stops with the switch.
    if (token) {
      const v = await gate.tokens.verify(token);
      if (v.ok && v.claims.shadow && !gate.shadowEnabled()) throw shadowDisabled();
    }
  } else {
    if (!token) throw new HttpRefusal(401, "UNAUTHORIZED", "send Authorization: Bearer <token>");
    const verified = await gate.tokens.verify(token);
    if (!verified.ok) throw new HttpRefusal(401, "UNAUTHORIZED", `token refused (${verified.reason})`);
    claims = verified.claims;
    if (claims.shadow && !gate.shadowEnabled()) throw shadowDisabled();
    if (!gate.userLimiter.take(claims.userId))
      throw new HttpRefusal(429, "RATE_LIMITED", "too many signaling requests; slow down");
    enforce(route.rule, claims, room);
  }

  let body: unknown;
  if (route.body)
    body = validate(route.body, (await readJsonBody(req, MAX_BODY_BYTES)) ?? {}, "request body");
  if (route.hostIf?.(body) && claims) enforce("host", claims, room);
  return { req, res, params, query, room, claims, body };
}

function enforce(rule: Rule, claims: Claims, room: string): void {
  if (rule === "public" || rule === "viewer") return;
  if (claims.shadow)
    throw new HttpRefusal(403, "FORBIDDEN", "a shadow (load-test) token cannot host or administer media");
  if (rule === "host" && !canHost(claims, room))
    throw new HttpRefusal(403, "FORBIDDEN", `only a host of room ${room} may do this`);
  if (rule === "admin" && claims.role !== "admin")
    throw new HttpRefusal(403, "FORBIDDEN", "only an admin may do this");
}

function bearer(req: IncomingMessage): string | undefined {
  return /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
}

function decode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}
