import { type Claims, canHost, canModerate } from "../../auth/index.ts";
import { type ClientFrame, type ServerFrame, WireErrorCode } from "../../protocol/index.ts";

type Code = (typeof WireErrorCode)[keyof typeof WireErrorCode];

/** Who may send a frame type, on which lane state, in which room state. */
export interface FrameRule {
  /** Served while the lane is switched off (the shadow kill switch); others get SHADOW_DISABLED. */
  readonly whileSwitchedOff: boolean;
  /** "anyone": any valid token; "host"/"moderator": of the frame's room (admins always). */
  readonly role: "anyone" | "host" | "moderator";
  /** The connection must be in the frame's room (NOT_IN_ROOM otherwise). */
  readonly joined: boolean;
}

/**
 * The one table of WebSocket frame rights, enforced before any handler runs. Typed by frame type,
 * so a new client frame does not compile until it has a rule here.
 */
export const FRAME_RULES: { readonly [T in ClientFrame["t"]]: FrameRule } = {
  ping: { whileSwitchedOff: true, role: "anyone", joined: false },
  leave: { whileSwitchedOff: true, role: "anyone", joined: false },
  join: { whileSwitchedOff: false, role: "anyone", joined: false },
  resume: { whileSwitchedOff: false, role: "anyone", joined: false },
  buy: { whileSwitchedOff: false, role: "anyone", joined: false },
  pay: { whileSwitchedOff: false, role: "anyone", joined: false },
  host: { whileSwitchedOff: false, role: "host", joined: false },
  moderation: { whileSwitchedOff: false, role: "moderator", joined: false },
  chat: { whileSwitchedOff: false, role: "anyone", joined: true },
};

/** Where a frame is judged: the lane's switch and the connection's rooms. */
export interface FrameContext {
  readonly serving: boolean;
  readonly joined: (room: string) => boolean;
}

/** The answer refusing `frame`, or undefined when its rule lets it through. */
export function refusal(frame: ClientFrame, claims: Claims, ctx: FrameContext): ServerFrame | undefined {
  const rule = FRAME_RULES[frame.t];
  const room = "room" in frame ? frame.room : undefined;
  if (!rule.whileSwitchedOff && !ctx.serving)
    return errorFor(frame, WireErrorCode.SHADOW_DISABLED, "shadow (load-test) traffic is switched off");
  if (rule.role === "host" && room !== undefined && !canHost(claims, room))
    return refusedFor(frame, WireErrorCode.FORBIDDEN, `only a host of room ${room} may do this`);
  if (rule.role === "moderator" && room !== undefined && !canModerate(claims, room))
    return refusedFor(frame, WireErrorCode.FORBIDDEN, `only a moderator or host of room ${room} may do this`);
  if (rule.joined && room !== undefined && !ctx.joined(room))
    return errorFor(frame, WireErrorCode.NOT_IN_ROOM, `join ${room} first`);
  return undefined;
}

/** The request id an answer to `frame` carries (a chat frame's is its clientMsgId). */
function reqIdOf(frame: ClientFrame): string | undefined {
  if (frame.t === "chat") return frame.clientMsgId;
  return "reqId" in frame ? frame.reqId : undefined;
}

/** An error frame naming the request and room it answers. */
export function errorFor(frame: ClientFrame, code: Code, message: string): ServerFrame {
  const reqId = reqIdOf(frame);
  return {
    t: "error",
    code,
    message,
    ...(reqId ? { reqId } : {}),
    ...("room" in frame ? { room: frame.room } : {}),
    ...(code === WireErrorCode.UNAVAILABLE ? { retryable: true } : {}),
  };
}

/** A refusal of a request the server acks (buy, pay, host, moderation with a reqId), else an error. */
function refusedFor(frame: ClientFrame, code: Code, message: string): ServerFrame {
  const acked = frame.t === "buy" || frame.t === "pay" || frame.t === "host" || frame.t === "moderation";
  if (acked && frame.reqId) return { t: "ack", reqId: frame.reqId, ok: false, code, message };
  return errorFor(frame, code, message);
}
