import type { HttpRequest, HttpResponse, TemplatedApp } from "uWebSockets.js";
import { z } from "zod";
import type { Claims, TokenService } from "../../auth/index.ts";
import { type RateLimiter, validate, withDeadline } from "../../core/index.ts";
import type { ClientAddress } from "../client-address.ts";
import { auditOf } from "../commands/command.ts";
import {
  type Access,
  authorize,
  authorizeCaller,
  type Command,
  chooseLane,
  type Lane,
  type LaneChoice,
  type Lanes,
  runCommand,
} from "../commands/index.ts";
import { type HandlerContext, HttpRefusal, handle } from "./handler.ts";
import { readJsonBody } from "./read-body.ts";
import { dropConnection, framingProblem } from "./request-framing.ts";
import { type GuardedResponse, guard, sendJson } from "./respond.ts";
import { auditRefusal, type RouteAudit, routeAuditOf, servedAudited } from "./router-audit.ts";

/** Largest JSON body the API reads; bigger ones are 413 before parsing. */
export const MAX_BODY_BYTES = 16 * 1024;

/** What a route without a body schema accepts: nothing at all, or an empty JSON object. */
const NO_BODY = z.strictObject({}).optional();

/** The limits every API call passes, keyed by who is calling. */
export interface CallerLimits {
  /** Calls with a valid token, keyed by lane and user id. */
  readonly perUser: RateLimiter;
  /** Calls without a (valid) token, keyed by client address. */
  readonly perAddress: RateLimiter;
}

export interface ApiRouterDeps extends HandlerContext, LaneChoice {
  readonly tokens: TokenService;
  readonly limits: CallerLimits;
  readonly clientAddress: ClientAddress;
  /** Longest a handler may wait on Redis or the store before the caller gets 503 UNAVAILABLE, ms. */
  readonly dependencyTimeoutMs: number;
}

/** What a handler gets: the request read before any await, the caller, its lane and the body. */
export interface RouteContext<B> {
  readonly params: string[];
  /** The raw query string ("" when none); routes that take parameters parse it. */
  readonly query: string;
  /** The client address (from trusted proxies' X-Forwarded-For, else the peer). */
  readonly ip: string;
  /** The verified token's claims; present on every route whose access is not `anyone`. */
  readonly claims: Claims | undefined;
  readonly lane: Lane;
  readonly body: B;
  readonly g: GuardedResponse;
}

export interface RouteSpec<B = undefined> {
  readonly method: "get" | "post" | "put";
  readonly pattern: string;
  /** Metrics label and the route's name in the access table. */
  readonly name: string;
  readonly access: Access;
  readonly lanes: Lanes;
  /**
   * The JSON body's schema. Absent: the route takes no body; a request carrying anything but
   * nothing or `{}` is refused (400, or 415 when it is not JSON).
   */
  readonly body?: z.ZodType<B>;
  /** An extra per-address limit for this route (cheap-to-ask, costly-to-serve calls). */
  readonly perAddress?: RateLimiter;
  /** The schema of a successful answer's body (protocol/), kept in the route table for contract tests. */
  readonly response?: z.ZodType;
  /**
   * Writes each call to the lane's audit log (router-audit.ts). Every host, moderator and admin
   * route that changes something is audited without saying so; a read is when it says so.
   */
  readonly audit?: RouteAudit;
  readonly handler: (c: RouteContext<B>) => Promise<void>;
}

/** A command served over HTTP: where it lives and how a request becomes its input and answer. */
export interface CommandRouteSpec<I, R, B, O> {
  readonly method: "post" | "put";
  readonly pattern: string;
  readonly command: Command<I, R>;
  /** The body's schema (what the path does not say); absent: the route takes no body. */
  readonly body?: z.ZodType<B>;
  /** The command's input from the path parameters and the body. */
  readonly input: (params: readonly string[], body: B) => unknown;
  /** The answer's status (default 200). */
  readonly status?: (result: R) => number;
  /** The schema of the answer's body (protocol/). */
  readonly response: z.ZodType<O>;
  /** The answer's body. */
  readonly respond: (result: R) => O;
}

/** One row of the route table: what the access test iterates. */
export interface RouteRule {
  readonly method: string;
  readonly pattern: string;
  readonly name: string;
  readonly who: Access["who"];
  readonly lanes: Lanes;
  readonly takesBody: boolean;
  /** The schema of a successful answer's body, when the route declares one. */
  readonly response: z.ZodType | undefined;
  /** Each call is written to the audit log. */
  readonly audited: boolean;
}

/** The request fields a route reads, copied now: uWS requests die when the callback returns. */
interface RequestInfo {
  readonly params: string[];
  readonly authorization: string;
  readonly contentType: string;
  readonly ip: string;
  readonly query: string;
  readonly hasBody: boolean;
  readonly framing: string | undefined;
}

function readRequest(req: HttpRequest, res: HttpResponse, paramCount: number, d: ApiRouterDeps): RequestInfo {
  const contentLength = req.getHeader("content-length");
  const chunked = req.getHeader("transfer-encoding") !== "";
  return {
    params: Array.from({ length: paramCount }, (_, i) => req.getParameter(i) ?? ""),
    authorization: req.getHeader("authorization"),
    contentType: req.getHeader("content-type"),
    ip: d.clientAddress.resolve(
      Buffer.from(res.getRemoteAddressAsText()).toString(),
      req.getHeader("x-forwarded-for"),
    ),
    query: req.getQuery() ?? "",
    hasBody: chunked || (contentLength !== "" && contentLength !== "0"),
    framing: framingProblem(req),
  };
}

/**
 * Every JSON route on uWS goes through `route()`, which applies, in this order and for every
 * route alike: request framing (ambiguous lengths refused), the caller's limit (per user when
 * the token is valid, per client address otherwise), the lane rule, the role rule, the body rule
 * (schema, or none at all), then the handler under the dependency deadline. Errors become
 * `{error:{code,message}}` with their status (handler.ts).
 */
export class ApiRouter {
  private readonly rules: RouteRule[] = [];

  constructor(
    private readonly app: TemplatedApp,
    private readonly d: ApiRouterDeps,
  ) {}

  /** The declared rule of every route, in registration order. */
  get table(): readonly RouteRule[] {
    return this.rules;
  }

  route<B = undefined>(spec: RouteSpec<B>): void {
    const audit = routeAuditOf(spec);
    const serve = async (c: RouteContext<B>) => {
      await authorize(spec.access, c.claims, { input: c.params, lane: c.lane });
      await spec.handler(c);
    };
    this.register(
      spec,
      audit ? (c) => servedAudited(spec.name, audit, c, serve, this.d.log) : serve,
      audit !== undefined,
      audit,
    );
  }

  /**
   * A command as a route: the command's own rule (command.ts) judges the caller, so HTTP and
   * WebSocket callers meet the same one; the route only maps the request to the input and the
   * result to the answer.
   */
  command<I, R, O, B = undefined>(spec: CommandRouteSpec<I, R, B, O>): void {
    const { command } = spec;
    this.register(
      {
        method: spec.method,
        pattern: spec.pattern,
        name: command.name,
        access: command.access as Access,
        lanes: command.lanes,
        response: spec.response,
        ...(spec.body ? { body: spec.body } : {}),
      },
      // runCommand writes the audit row of an audited command, whichever transport calls it.
      async (c) => {
        const ctx = { claims: c.claims, lane: c.lane, serving: true };
        const result = await runCommand(command, ctx, spec.input(c.params, c.body));
        sendJson(c.g, spec.status?.(result) ?? 200, spec.respond(result));
      },
      auditOf(command) !== undefined,
    );
  }

  /**
   * Every route alike: framing, the caller's limit, the lane rule, the body rule, then `serve`
   * (the role rule and the handler) under the dependency deadline.
   */
  private register<B>(
    spec: Omit<RouteSpec<B>, "handler">,
    serve: (c: RouteContext<B>) => Promise<void>,
    audited: boolean,
    /** An audited route's descriptor: refusals before `serve` (role, body) are written too. */
    refusals?: RouteAudit,
  ): void {
    const paramCount = (spec.pattern.match(/\/:/g) ?? []).length;
    this.rules.push({
      method: spec.method.toUpperCase(),
      pattern: spec.pattern,
      name: spec.name,
      who: spec.access.who,
      lanes: spec.lanes,
      takesBody: spec.body !== undefined,
      response: spec.response,
      audited,
    });
    const d = this.d;
    this.app[spec.method](spec.pattern, (res, req) => {
      const i = readRequest(req, res, paramCount, d);
      if (i.framing) {
        dropConnection(res, d, spec.name);
        return;
      }
      const g = guard(res);
      // The body stream must be attached before this callback returns, or its chunks are gone.
      const body = i.hasBody ? readJsonBody(g, i.contentType, MAX_BODY_BYTES) : Promise.resolve(undefined);
      body.catch(() => undefined); // a refused body surfaces where it is awaited below
      handle(d, spec.name, g, async () => {
        const claims = await this.caller(i, spec.perAddress);
        const lane = chooseLane(spec.lanes, claims, d);
        let parsed: B;
        try {
          // No token, or the wrong role, is refused before the body is even read.
          authorizeCaller(spec.access as Access<never, never>, claims);
          parsed = spec.body
            ? validate(spec.body, await body, "request body")
            : (validate(NO_BODY, await body, `${spec.name} takes no request body; body`) as B);
        } catch (err) {
          if (refusals)
            await auditRefusal(spec.name, refusals, { params: i.params, claims, lane }, err, d.log);
          throw err;
        }
        await withDeadline(
          serve({ params: i.params, query: i.query, ip: i.ip, claims, lane, body: parsed, g }),
          d.dependencyTimeoutMs,
          spec.name,
        );
      });
    });
  }

  /**
   * The verified claims of `Authorization: Bearer <token>` (undefined without the header), with
   * the caller's limit taken: per user for a valid token, per address otherwise. A bad token
   * counts against its address, so a flood of forged tokens is limited like anonymous calls.
   */
  private async caller(i: RequestInfo, perAddress: RateLimiter | undefined): Promise<Claims | undefined> {
    const { limits } = this.d;
    if (perAddress && !perAddress.take(i.ip))
      throw new HttpRefusal(429, "RATE_LIMITED", "too many requests from this address; slow down");
    if (!i.authorization) {
      if (!limits.perAddress.take(i.ip))
        throw new HttpRefusal(429, "RATE_LIMITED", "too many requests; slow down");
      return undefined;
    }
    const match = /^Bearer (\S+)$/.exec(i.authorization);
    const verified = match?.[1] ? await this.d.tokens.verify(match[1]) : undefined;
    if (!verified?.ok) {
      if (!limits.perAddress.take(i.ip))
        throw new HttpRefusal(429, "RATE_LIMITED", "too many requests; slow down");
      if (!verified) throw new HttpRefusal(401, "UNAUTHORIZED", "send Authorization: Bearer <token>");
      throw new HttpRefusal(401, "UNAUTHORIZED", `token refused (${verified.reason})`);
    }
    const key = `${verified.claims.shadow ? "shadow" : "live"}|${verified.claims.userId}`;
    if (!limits.perUser.take(key))
      throw new HttpRefusal(429, "RATE_LIMITED", "too many requests for this user; slow down");
    return verified.claims;
  }
}

/** The claims of a route whose access rule requires a token (the router already checked). */
export function callerOf(c: RouteContext<unknown>): Claims {
  if (!c.claims) throw new HttpRefusal(401, "UNAUTHORIZED", "send Authorization: Bearer <token>");
  return c.claims;
}
