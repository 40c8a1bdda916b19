import type { HttpResponse } from "uWebSockets.js";
import type { Claims } from "../../auth/index.ts";
import { ErrorCode, LivedropError, type Logger } from "../../core/index.ts";
import { outcomeOf } from "../commands/command.ts";
import type { Access, Lane } from "../commands/index.ts";
import type { GuardedResponse } from "./respond.ts";

/** How the audit log names a route's call. */
export interface RouteAudit {
  /** What the call acts on, from the path parameters. Default: the first one, or none. */
  readonly target?: (params: readonly string[]) => string | null;
}

/** The part of a route's spec that decides whether and how it is audited. */
interface AuditedSpec {
  readonly method: string;
  readonly access: Access;
  readonly audit?: RouteAudit;
}

/** The part of a route call the audit row is made of. */
interface AuditedCall {
  readonly params: string[];
  readonly claims: Claims | undefined;
  readonly lane: Lane;
  readonly body: unknown;
  readonly g: GuardedResponse;
}

/**
 * A route's audit descriptor: its own, or, for a host, moderator or admin route that changes
 * something (any method but GET), the default. Reads are audited only where they say so (a
 * user's export, the audit log itself): the figures consoles poll every few seconds are not.
 */
export function routeAuditOf(spec: AuditedSpec): RouteAudit | undefined {
  if (spec.audit) return spec.audit;
  const privileged = spec.access.who !== "anyone" && spec.access.who !== "signed-in";
  return privileged && spec.method !== "get" ? {} : undefined;
}

/**
 * Serves an audited call: the handler answers into a held response, the audit row is written
 * (`ok`, or the refusal's code for callers of a privileged role), and only then does the client
 * get the answer. A row that cannot be written turns the answer into a 500 (the action may have
 * taken effect, so not a retryable 503). Viewers' refusals are not written: guest tokens are free
 * and the log is append-only.
 */
export async function servedAudited<C extends AuditedCall>(
  name: string,
  audit: RouteAudit,
  c: C,
  serve: (c: C) => Promise<void>,
  log: Logger,
): Promise<void> {
  const held = holdResponse(c.g);
  let outcome = "ok";
  let failure: unknown;
  try {
    await serve({ ...c, g: held.g });
  } catch (err) {
    outcome = outcomeOf(err);
    failure = err;
  }
  // A handler that answered a refusal itself, without throwing.
  if (failure === undefined && (held.g.status ?? 200) >= 400) outcome = `HTTP_${held.g.status}`;
  const claims = c.claims;
  if (claims && (failure === undefined || claims.role !== "viewer"))
    await write(name, audit, c, outcome, log);
  // What was done and how it ended; who and on whom stay in the audit log, not the process log.
  log.debug(
    { route: name, outcome, lane: claims?.shadow ? "shadow" : "live", role: claims?.role },
    "audited call",
  );
  if (failure !== undefined) throw failure;
  held.release();
}

/**
 * A refusal before the route's handler (the role rule of an admin route, the body rule) of a
 * caller with a privileged role, written like the handler's own refusals; the body is not in it.
 */
export async function auditRefusal(
  name: string,
  audit: RouteAudit,
  c: Pick<AuditedCall, "params" | "claims" | "lane">,
  err: unknown,
  log: Logger,
): Promise<void> {
  if (!c.claims || c.claims.role === "viewer") return;
  await write(name, audit, { ...c, body: undefined }, outcomeOf(err), log);
}

async function write(
  name: string,
  audit: RouteAudit,
  c: Pick<AuditedCall, "params" | "claims" | "lane" | "body">,
  outcome: string,
  log: Logger,
): Promise<void> {
  const claims = c.claims;
  if (!claims) return;
  try {
    await c.lane.store.appendAudit({
      actor: claims.userId,
      actorRole: claims.role,
      lane: claims.shadow ? "shadow" : "live",
      action: name,
      target: audit.target ? audit.target(c.params) : (c.params[0] ?? null),
      details: detailsOf(c),
      outcome,
    });
  } catch (err) {
    log.error({ err, route: name }, "audit row could not be written");
    throw new LivedropError(ErrorCode.INTERNAL, `the audit row of ${name} could not be written`);
  }
}

function detailsOf(c: Pick<AuditedCall, "params" | "body">): Record<string, unknown> {
  const body = typeof c.body === "object" && c.body !== null ? (c.body as Record<string, unknown>) : {};
  return c.params.length > 0 ? { params: c.params, ...body } : body;
}

/** A response whose writes are kept until `release`, then written to the real one (if still open). */
function holdResponse(real: GuardedResponse): { g: GuardedResponse; release: () => void } {
  const writes: ((res: HttpResponse) => void)[] = [];
  const recorder = {
    cork(fn: () => void) {
      fn();
      return recorder;
    },
    writeStatus(status: string) {
      writes.push((res) => res.writeStatus(status));
      return recorder;
    },
    writeHeader(key: string, value: string) {
      writes.push((res) => res.writeHeader(key, value));
      return recorder;
    },
    end(body?: string) {
      writes.push((res) => res.end(body));
      return recorder;
    },
  };
  const g: GuardedResponse = { res: recorder as unknown as HttpResponse, aborted: false };
  return {
    g,
    release() {
      if (real.aborted || writes.length === 0) return;
      real.res.cork(() => {
        for (const w of writes) w(real.res);
      });
      real.status = g.status;
      real.aborted = true;
    },
  };
}
