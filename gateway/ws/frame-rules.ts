import { type ClientFrame, type ServerFrame, WireErrorCode } from "../../protocol/index.ts";

type Code = (typeof WireErrorCode)[keyof typeof WireErrorCode];

/** Whether a frame type is served on a lane whose kill switch is off, and what serves it. */
export interface FrameRule {
  /** Served while the lane is switched off (the shadow kill switch); others get SHADOW_DISABLED. */
  readonly whileSwitchedOff: boolean;
  /**
   * `connection`: the socket's own business (clock, rooms). `command`: a command of the command
   * layer, whose own rule (role, room, presence) judges the sender (command-frames.ts).
   */
  readonly serves: "connection" | "command";
}

/**
 * Every client frame type's rule, judged before anything serves it. Typed by frame type, so a
 * new client frame does not compile until it has a row here.
 */
export const FRAME_RULES: { readonly [T in ClientFrame["t"]]: FrameRule } = {
  ping: { whileSwitchedOff: true, serves: "connection" },
  leave: { whileSwitchedOff: true, serves: "connection" },
  join: { whileSwitchedOff: false, serves: "connection" },
  resume: { whileSwitchedOff: false, serves: "connection" },
  delay: { whileSwitchedOff: false, serves: "connection" },
  buy: { whileSwitchedOff: false, serves: "command" },
  pay: { whileSwitchedOff: false, serves: "command" },
  host: { whileSwitchedOff: false, serves: "command" },
  moderation: { whileSwitchedOff: false, serves: "command" },
  chat: { whileSwitchedOff: false, serves: "command" },
  waitlist: { whileSwitchedOff: false, serves: "command" },
  bid: { whileSwitchedOff: false, serves: "command" },
  coupon: { whileSwitchedOff: false, serves: "command" },
};

/** The answer refusing `frame` while its lane is switched off, or undefined when it is served. */
export function refusal(frame: ClientFrame, serving: boolean): ServerFrame | undefined {
  if (FRAME_RULES[frame.t].whileSwitchedOff || serving) return undefined;
  return errorFor(frame, WireErrorCode.SHADOW_DISABLED, "shadow (load-test) traffic is switched off");
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
