import type { z } from "zod";
import type { Claims } from "../../auth/index.ts";
import { validate } from "../../core/index.ts";
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
}

/** Declares a command (keeps its input and result types tied together). */
export function command<I, R>(c: Command<I, R>): Command<I, R> {
  return c;
}

/**
 * Runs a command through its rule, the same for every transport: lane, token, input, role and
 * room, presence; then the handler. Callers put the whole of it under their dependency deadline.
 */
export async function runCommand<I, R>(c: Command<I, R>, ctx: CommandContext, raw: unknown): Promise<R> {
  const shadow = ctx.claims?.shadow === true;
  if (shadow && !ctx.serving)
    throw new AccessRefusal("SHADOW_DISABLED", "shadow (load-test) traffic is switched off");
  if (shadow && c.lanes === "live")
    throw new AccessRefusal("FORBIDDEN", "this serves live traffic only, not shadow (load-test) tokens");
  // No token, or the wrong role, is refused before the input is even read.
  authorizeCaller(c.access as Access<never, never>, ctx.claims);
  const input = validate(c.input, raw, `${c.name} input`);
  await authorize(c.access, ctx.claims, { input, lane: ctx.lane });
  const claims = ctx.claims;
  if (!claims) throw new AccessRefusal("UNAUTHORIZED", "send Authorization: Bearer <token>");
  if (c.presentIn) {
    const room = c.presentIn(input);
    if (!ctx.presence?.joined(room)) throw new AccessRefusal("NOT_IN_ROOM", `join ${room} first`);
  }
  return c.run({ ...ctx, claims }, input);
}
