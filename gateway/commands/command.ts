import type { z } from "zod";
import type { Claims } from "../../auth/index.ts";
import { ErrorCode, LivedropError, validate } from "../../core/index.ts";
import type { AckResult } from "../../protocol/index.ts";
import type { RoomChat } from "../ws/chat.ts";
import { type Access, authorize, authorizeCaller, type CommandLane, type Lanes } from "./access.ts";
import { AccessRefusal } from "./refusal.ts";

/** Who is asking, on which lane, from where: what every command runs with. */
export interface CommandContext {
  /** Undefined when the caller sent no token: every command then refuses with UNAUTHORIZED. */
  readonly claims: Claims | undefined;
  readonly lane: CommandLane;
  /** False while the caller's (shadow) lane is switched off. */
  readonly serving: boolean;
  /** A WebSocket's rooms and its lane's chat; absent on HTTP, which has no room presence. */
  readonly presence?: {
    readonly joined: (room: string) => boolean;
    readonly chat: RoomChat;
  };
}

/**
 * One action, written once for every transport: its input schema, its rule (role and room,
 * lanes, presence), its handler and its result. HTTP routes and WebSocket frames only adapt it
 * (http/command-routes.ts, ws/command-frames.ts).
 */
export interface Command<I, R> {
  /** The route name, metrics label and row of the access tables. */
  readonly name: string;
  readonly input: z.ZodType<I>;
  readonly access: Access<I, CommandLane>;
  readonly lanes: Lanes;
  /** The room a caller must be present in (a WebSocket that joined it), when the command needs one. */
  readonly presentIn?: (input: I) => string;
  readonly run: (ctx: CommandContext & { readonly claims: Claims }, input: I) => Promise<R>;
  /** The result as a WebSocket ack result (commands answered with an ack). */
  readonly ack?: (result: R) => AckResult;
  /**
   * How the audit log names what this command acts on. Every host, moderator and admin command is
   * audited by runCommand whether it says so or not (auditOf): this only overrides the target.
   */
  readonly audit?: CommandAudit<I>;
}

/** What the audit log records of a command beyond its name, caller, input and outcome. */
export interface CommandAudit<I> {
  /** The drop, room, order or user acted on. */
  readonly target: (input: I) => string;
}

/** Declares a command (keeps its input and result types tied together). */
export function command<I, R>(c: Command<I, R>): Command<I, R> {
  return c;
}

/**
 * Runs a command through its rule, the same for every transport: lane, token, input, role and
 * room, presence; then the handler. Callers put the whole of it under their dependency deadline.
 * An audited command's outcome is written to the lane's audit log before the caller hears it: `ok`
 * after the handler, or the refusal's code when a caller with a privileged role (moderator, host,
 * admin) was refused or the handler failed. Viewers' refusals are not written: anyone can mint a
 * guest token, and the log is append-only. A write that fails fails the call (INTERNAL).
 */
export async function runCommand<I, R>(c: Command<I, R>, ctx: CommandContext, raw: unknown): Promise<R> {
  const shadow = ctx.claims?.shadow === true;
  if (shadow && !ctx.serving)
    throw new AccessRefusal("SHADOW_DISABLED", "shadow (load-test) traffic is switched off");
  if (shadow && c.lanes === "live")
    throw new AccessRefusal("FORBIDDEN", "this serves live traffic only, not shadow (load-test) tokens");
  const audit = auditOf(c);
  let input: I | undefined;
  let result: R;
  try {
    // No token, or the wrong role, is refused before the input is even read.
    authorizeCaller(c.access as Access<never, never>, ctx.claims);
    input = validate(c.input, raw, `${c.name} input`);
    await authorize(c.access, ctx.claims, { input, lane: ctx.lane });
    const claims = ctx.claims;
    if (!claims) throw new AccessRefusal("UNAUTHORIZED", "send Authorization: Bearer <token>");
    if (c.presentIn) {
      const room = c.presentIn(input);
      if (!ctx.presence?.joined(room)) throw new AccessRefusal("NOT_IN_ROOM", `join ${room} first`);
    }
    result = await c.run({ ...ctx, claims }, input);
  } catch (err) {
    if (audit && ctx.claims && ctx.claims.role !== "viewer")
      await record(c, audit, ctx, input, outcomeOf(err));
    throw err;
  }
  if (audit) await record(c, audit, ctx, input, "ok");
  return result;
}

/** The input's drop, else its room: what a host or moderator command acts on. */
const defaultAudit: CommandAudit<unknown> = {
  target: (input) => {
    const i = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
    const id = i.dropId ?? i.roomId ?? i.room;
    return typeof id === "string" ? id : "-";
  },
};

/** The audit descriptor a command runs with: its own, or the default for every privileged one. */
export function auditOf<I, R>(c: Command<I, R>): CommandAudit<I> | undefined {
  if (c.audit) return c.audit;
  return c.access.who === "anyone" || c.access.who === "signed-in" ? undefined : defaultAudit;
}

/** `ok`'s counterpart: the stable code of a refusal or typed error, INTERNAL for anything else. */
export function outcomeOf(err: unknown): string {
  const code =
    typeof err === "object" && err !== null && "code" in err ? (err as { code: unknown }).code : undefined;
  return typeof code === "string" && /^[A-Za-z0-9_]{1,64}$/.test(code) ? code : ErrorCode.INTERNAL;
}

async function record<I, R>(
  c: Command<I, R>,
  audit: CommandAudit<I>,
  ctx: CommandContext,
  input: I | undefined,
  outcome: string,
): Promise<void> {
  const claims = ctx.claims;
  if (!claims) return;
  try {
    await ctx.lane.checkout.store.appendAudit({
      actor: claims.userId,
      actorRole: claims.role,
      lane: claims.shadow ? "shadow" : "live",
      action: c.name,
      target: input === undefined ? null : audit.target(input),
      details: typeof input === "object" && input !== null ? (input as Record<string, unknown>) : {},
      outcome,
    });
  } catch (err) {
    // The action may have taken effect: not UNAVAILABLE, which tells a caller to send it again.
    throw new LivedropError(ErrorCode.INTERNAL, `the audit row of ${c.name} could not be written`, {
      cause: (err as Error).message,
    });
  }
}
