import type { Checkout } from "../../orders/index.ts";
import { type ClientFrame, type ServerFrame, WireErrorCode } from "../../protocol/index.ts";
import type { SaleEngine } from "../../sale-engine/index.ts";
import { type Claims, canHost, canModerate } from "../auth/index.ts";
import { ChatRefusal, type RoomChat } from "./chat.ts";
import { wireError } from "./frames.ts";

/**
 * What a connection's requests do: buy, pay, host controls, chat, moderation. Each returns the
 * frame to answer with; rights are checked here, on the server, from the token's claims.
 */
export interface ActionDeps {
  readonly engine: SaleEngine;
  readonly checkout: Checkout;
  readonly chat: RoomChat;
  /** Counts a buy click (the ops funnel); absent on lanes kept out of analytics. */
  readonly countBuy?: ((dropId: string) => void) | undefined;
}

type Frame<T extends ClientFrame["t"]> = Extract<ClientFrame, { t: T }>;
type Code = (typeof WireErrorCode)[keyof typeof WireErrorCode];

const refusedAck = (reqId: string, code: Code, message: string): ServerFrame => ({
  t: "ack",
  reqId,
  ok: false,
  code,
  message,
});
const failedAck = (reqId: string, err: unknown): ServerFrame => {
  const e = wireError(err);
  return refusedAck(reqId, e.code, e.message);
};

export async function buy(d: ActionDeps, claims: Claims, f: Frame<"buy">): Promise<ServerFrame> {
  d.countBuy?.(f.dropId);
  try {
    const r = await d.engine.reserve({
      dropId: f.dropId,
      userId: claims.userId,
      qty: f.qty,
      idempotencyKey: f.idempotencyKey,
    });
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
    const o = await d.checkout.pay({
      reservationId: f.reservationId,
      userId: claims.userId,
      token: f.token,
      idempotencyKey: f.idempotencyKey,
    });
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

/** Host controls: the token must hold the room, and the drop must be in that room. */
export async function host(d: ActionDeps, claims: Claims, f: Frame<"host">): Promise<ServerFrame> {
  if (!canHost(claims, f.room))
    return refusedAck(f.reqId, WireErrorCode.FORBIDDEN, `only a host of room ${f.room} may do this`);
  const a = f.action;
  try {
    const drop = await d.engine.status(a.dropId);
    if (drop.roomId !== f.room)
      return refusedAck(f.reqId, WireErrorCode.FORBIDDEN, `drop ${a.dropId} is not in room ${f.room}`);
    const outcome =
      a.kind === "restock"
        ? { changed: true, state: (await d.engine.restock(a.dropId, a.qty)).state }
        : await d.engine[a.kind](a.dropId);
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

/** Posts a chat message; the sender gets it back at once, whatever sampling the room gets. */
export async function chat(
  d: ActionDeps,
  claims: Claims,
  joined: boolean,
  f: Frame<"chat">,
): Promise<ServerFrame> {
  const refuse = (code: Code, message: string): ServerFrame => ({
    t: "error",
    code,
    message,
    reqId: f.clientMsgId,
    room: f.room,
  });
  if (!joined) return refuse(WireErrorCode.NOT_IN_ROOM, `join ${f.room} first`);
  try {
    const message = await d.chat.post(
      { userId: claims.userId, name: claims.name, role: claims.role },
      f.room,
      f.text,
    );
    return { t: "chat", room: f.room, messages: [message] };
  } catch (err) {
    if (err instanceof ChatRefusal) return refuse(err.code, err.message);
    throw err;
  }
}

/** Moderation by a moderator or host of the room; acked when the frame carries a reqId. */
export async function moderate(
  d: ActionDeps,
  claims: Claims,
  f: Frame<"moderation">,
): Promise<ServerFrame | undefined> {
  if (!canModerate(claims, f.room)) {
    const message = `only a moderator or host of room ${f.room} may do this`;
    return f.reqId
      ? refusedAck(f.reqId, WireErrorCode.FORBIDDEN, message)
      : { t: "error", code: WireErrorCode.FORBIDDEN, message };
  }
  await d.chat.moderate(claims.name, f.room, f.action);
  return f.reqId ? { t: "ack", reqId: f.reqId, ok: true, result: { kind: "moderation" } } : undefined;
}
