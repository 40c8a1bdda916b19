import type { Claims } from "../../auth/index.ts";
import { type Logger, withDeadline } from "../../core/index.ts";
import { type ClientFrame, type ServerFrame, WireErrorCode } from "../../protocol/index.ts";
import {
  AccessRefusal,
  bidCommand,
  buyCommand,
  type Command,
  type CommandLane,
  chatPostCommand,
  couponClaimCommand,
  DROP_CONTROLS,
  moderateCommand,
  payCommand,
  runCommand,
  waitlistCommand,
} from "../commands/index.ts";
import { ChatRefusal, type RoomChat } from "./chat.ts";
import { wireError } from "./frames.ts";

type Code = (typeof WireErrorCode)[keyof typeof WireErrorCode];

/** The client frames that carry a command (the others are the connection's own: ping, rooms). */
export type CommandFrame = Extract<
  ClientFrame,
  { t: "buy" | "pay" | "host" | "chat" | "moderation" | "waitlist" | "bid" | "coupon" }
>;
export const COMMAND_FRAME_TYPES = [
  "buy",
  "pay",
  "host",
  "chat",
  "moderation",
  "waitlist",
  "bid",
  "coupon",
] as const satisfies readonly CommandFrame["t"][];

export function isCommandFrame(frame: ClientFrame): frame is CommandFrame {
  return (COMMAND_FRAME_TYPES as readonly string[]).includes(frame.t);
}

/** A frame as its command and that command's input. */
interface Dispatch {
  // biome-ignore lint/suspicious/noExplicitAny: each frame pairs one command with its own input.
  readonly command: Command<any, any>;
  readonly input: unknown;
}

function dispatchOf(f: CommandFrame): Dispatch {
  switch (f.t) {
    case "buy":
      return {
        command: buyCommand,
        input: { dropId: f.dropId, qty: f.qty, idempotencyKey: f.idempotencyKey },
      };
    case "pay":
      return {
        command: payCommand,
        input: {
          reservationId: f.reservationId,
          token: f.token,
          idempotencyKey: f.idempotencyKey,
          ...(f.couponClaimId !== undefined ? { couponClaimId: f.couponClaimId } : {}),
        },
      };
    case "host": {
      const { kind, ...rest } = f.action;
      return { command: DROP_CONTROLS[kind], input: { ...rest, room: f.room } };
    }
    case "waitlist":
      return {
        command: waitlistCommand,
        input: { dropId: f.dropId, qty: f.qty, idempotencyKey: f.idempotencyKey },
      };
    case "bid":
      return {
        command: bidCommand,
        input: { dropId: f.dropId, maxMinor: f.maxMinor, idempotencyKey: f.idempotencyKey },
      };
    case "coupon":
      return {
        command: couponClaimCommand,
        input: { roomId: f.room, code: f.code, idempotencyKey: f.idempotencyKey },
      };
    case "chat":
      return { command: chatPostCommand, input: { room: f.room, text: f.text } };
    case "moderation":
      return { command: moderateCommand, input: { room: f.room, action: f.action } };
  }
}

/** A failure as a wire code and message (access refusals, chat refusals, typed errors). */
function codeOf(err: unknown): { code: Code; message: string } {
  if (err instanceof AccessRefusal) return { code: err.code, message: err.message };
  if (err instanceof ChatRefusal) return { code: err.code, message: err.message };
  return wireError(err);
}
// UNAVAILABLE: nothing is known to have happened; REPLICATION_TIMEOUT: it happened but is not yet
// known to be replicated. Either way the same request may be sent again.
const RETRYABLE = new Set<Code>([WireErrorCode.UNAVAILABLE, WireErrorCode.REPLICATION_TIMEOUT]);
const retryable = (code: Code) => (RETRYABLE.has(code) ? { retryable: true } : {});

export interface CommandFramesDeps {
  readonly lane: CommandLane;
  readonly chat: RoomChat;
  /** False while this (shadow) lane is switched off. */
  readonly serving: () => boolean;
  /** Longest a command may wait on Redis or the order store, ms. */
  readonly dependencyTimeoutMs: number;
  readonly log: Logger;
}

/**
 * The WebSocket adapter of the command layer: a frame becomes its command's input, runs through
 * the command's rule under the dependency deadline, and its result or refusal becomes the frame's
 * answer: an ack for buy, pay, bid, coupon, waitlist, host and moderation (with a reqId), the sender's own message for
 * chat, an error frame naming the request otherwise.
 */
export async function answerCommandFrame(
  d: CommandFramesDeps,
  frame: CommandFrame,
  claims: Claims,
  joined: (room: string) => boolean,
): Promise<ServerFrame | undefined> {
  const { command, input } = dispatchOf(frame);
  const ctx = { claims, lane: d.lane, serving: d.serving(), presence: { joined, chat: d.chat } };
  try {
    const result = await withDeadline(runCommand(command, ctx, input), d.dependencyTimeoutMs, command.name);
    if (frame.t === "chat") return { t: "chat", room: frame.room, messages: [result] };
    if (!frame.reqId || !command.ack) return undefined;
    return { t: "ack", reqId: frame.reqId, ok: true, result: command.ack(result) };
  } catch (err) {
    const { code, message } = codeOf(err);
    if (code === WireErrorCode.INTERNAL) d.log.error({ err, command: command.name }, "command failed");
    if (frame.t !== "chat" && frame.reqId)
      return { t: "ack", reqId: frame.reqId, ok: false, code, message, ...retryable(code) };
    const reqId = frame.t === "chat" ? frame.clientMsgId : undefined;
    const room = "room" in frame ? { room: frame.room } : {};
    return { t: "error", code, message, ...(reqId ? { reqId } : {}), ...room, ...retryable(code) };
  }
}
