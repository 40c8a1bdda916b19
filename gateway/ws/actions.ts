import { type Claims, canModerate } from "../../auth/index.ts";
import type { Checkout } from "../../orders/index.ts";
import { type ClientFrame, type ServerFrame, WireErrorCode } from "../../protocol/index.ts";
import type { SaleEngine } from "../../sale-engine/index.ts";
import { ChatRefusal, type RoomChat } from "./chat.ts";
import { wireError } from "./frames.ts";

/**
 * What a connection's requests do: buy, pay, host controls, chat, moderation. Each returns the
 * frame to answer with. Who may send which frame is judged before, in one table (frame-rules.ts);
 * every call to Redis or the order store goes through `within`, so a dependency that is away
 * gets the caller the retryable UNAVAILABLE answer in bounded time instead of silence.
 */
export interface ActionDeps {
  readonly engine: SaleEngine;
  readonly checkout: Checkout;
  readonly chat: RoomChat;
  /** Counts a buy click (the ops funnel); absent on lanes kept out of analytics. */
  readonly countBuy?: ((dropId: string) => void) | undefined;
  /** `work`, or the UNAVAILABLE error past the dependency deadline (core withDeadline). */
  readonly within: <T>(work: Promise<T>, what: string) => Promise<T>;
}

type Frame<T extends ClientFrame["t"]> = Extract<ClientFrame, { t: T }>;
type Code = (typeof WireErrorCode)[keyof typeof WireErrorCode];

const refusedAck = (reqId: string, code: Code, message: string): ServerFrame => ({
  t: "ack",
  reqId,
  ok: false,
  code,
  message,
  // UNAVAILABLE: nothing is known to have happened; the same request may be sent again.
  ...(code === WireErrorCode.UNAVAILABLE ? { retryable: true } : {}),
});
const failedAck = (reqId: string, err: unknown): ServerFrame => {
  const e = wireError(err);
  return refusedAck(reqId, e.code, e.message);
};

export async function buy(d: ActionDeps, claims: Claims, f: Frame<"buy">): Promise<ServerFrame> {
  d.countBuy?.(f.dropId);
  try {
    const r = await d.within(
      d.engine.reserve({
        dropId: f.dropId,
        userId: claims.userId,
        qty: f.qty,
        idempotencyKey: f.idempotencyKey,
      }),
      "the sale engine",
    );
    return {
      t: "ack",
      reqId: f.reqId,
      ok: true,
      result: {
        kind: "buy",
        reservationId: r.reservationId,
        dropId: r.dropId,
        qty: r.qty,
        deadline: r.deadline,
        available: r.available,
        replayed: r.replayed,
      },
    };
  } catch (err) {
    return failedAck(f.reqId, err);
  }
}

export async function pay(d: ActionDeps, claims: Claims, f: Frame<"pay">): Promise<ServerFrame> {
  try {
    const o = await d.within(
      d.checkout.pay({
        reservationId: f.reservationId,
        userId: claims.userId,
        token: f.token,
        idempotencyKey: f.idempotencyKey,
      }),
      "checkout",
    );
    return {
      t: "ack",
      reqId: f.reqId,
      ok: true,
      result: {
        kind: "pay",
        reservationId: o.reservationId,
        status: o.status,
        totalMinor: o.totalMinor,
        currency: o.currency,
      },
    };
  } catch (err) {
    return failedAck(f.reqId, err);
  }
}

/** Host controls (the frame rule checked the host holds the room): the drop must be in that room. */
export async function host(d: ActionDeps, _claims: Claims, f: Frame<"host">): Promise<ServerFrame> {
  const a = f.action;
  try {
    const drop = await d.within(d.engine.status(a.dropId), "the sale engine");
    if (drop.roomId !== f.room)
      return refusedAck(f.reqId, WireErrorCode.FORBIDDEN, `drop ${a.dropId} is not in room ${f.room}`);
    const outcome = await d.within(
      a.kind === "restock"
        ? d.engine.restock(a.dropId, a.qty).then((s) => ({ changed: true, state: s.state }))
        : d.engine[a.kind](a.dropId),
      "the sale engine",
    );
    return {
      t: "ack",
      reqId: f.reqId,
      ok: true,
      result: {
        kind: "host",
        action: a.kind,
        dropId: a.dropId,
        state: outcome.state,
        changed: outcome.changed,
      },
    };
  } catch (err) {
    return failedAck(f.reqId, err);
  }
}

/**
 * Posts a chat message (the frame rule checked the sender is in the room); the sender gets it
 * back at once, whatever sampling the room gets. Rate limit and slow mode spare those who may
 * moderate this room, not a moderator of some other room.
 */
export async function chat(d: ActionDeps, claims: Claims, f: Frame<"chat">): Promise<ServerFrame> {
  const refuse = (code: Code, message: string): ServerFrame => ({
    t: "error",
    code,
    message,
    reqId: f.clientMsgId,
    room: f.room,
    ...(code === WireErrorCode.UNAVAILABLE ? { retryable: true } : {}),
  });
  try {
    const author = {
      userId: claims.userId,
      name: claims.name,
      role: claims.role,
      privileged: canModerate(claims, f.room),
    };
    const message = await d.within(d.chat.post(author, f.room, f.text), "chat");
    return { t: "chat", room: f.room, messages: [message] };
  } catch (err) {
    if (err instanceof ChatRefusal) return refuse(err.code, err.message);
    const e = wireError(err);
    if (e.code === WireErrorCode.UNAVAILABLE) return refuse(e.code, e.message);
    throw err;
  }
}

/** Moderation (the frame rule checked the rights); acked when the frame carries a reqId. */
export async function moderate(
  d: ActionDeps,
  claims: Claims,
  f: Frame<"moderation">,
): Promise<ServerFrame | undefined> {
  try {
    await d.within(d.chat.moderate(claims.name, f.room, f.action), "moderation");
  } catch (err) {
    if (f.reqId) return failedAck(f.reqId, err);
    throw err;
  }
  return f.reqId ? { t: "ack", reqId: f.reqId, ok: true, result: { kind: "moderation" } } : undefined;
}
