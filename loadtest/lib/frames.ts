/**
 * The wire frames the load tests send and read, as plain objects. No imports: k6 (which cannot
 * load zod or anything from node_modules) and the Node driver both load this file. The shapes
 * follow protocol/client-frames.ts and protocol/server-frames.ts; test/loadtest/frames.test.ts
 * checks every builder against the zod schemas and the read shapes against the protocol types,
 * so they cannot drift apart.
 */

export type HostActionKind = "launch" | "pause" | "resume" | "end" | "pin" | "unpin" | "restock";
export type HostAction =
  | { kind: "launch" | "pause" | "resume" | "end" | "pin" | "unpin"; dropId: string }
  | { kind: "restock"; dropId: string; qty: number };

export interface JoinFrame {
  t: "join";
  room: string;
}
export interface LeaveFrame {
  t: "leave";
  room: string;
}
export interface ChatFrame {
  t: "chat";
  room: string;
  text: string;
  clientMsgId: string;
}
export interface BuyFrame {
  t: "buy";
  reqId: string;
  dropId: string;
  qty: number;
  idempotencyKey: string;
}
export interface WaitlistFrame {
  t: "waitlist";
  reqId: string;
  dropId: string;
  qty: number;
  idempotencyKey: string;
}
export interface BidFrame {
  t: "bid";
  reqId: string;
  dropId: string;
  maxMinor: number;
  idempotencyKey: string;
}
/** A viewer's playback delay; load-test sessions play no video, so no scenario sends it. */
export interface DelayFrame {
  t: "delay";
  room: string;
  ms: number;
  source: "hls" | "webrtc";
}
/** A viewer's claim of a coupon pinned in a room (acked with the claim). */
export interface CouponFrame {
  t: "coupon";
  reqId: string;
  room: string;
  code: string;
  idempotencyKey: string;
}
export interface PayFrame {
  t: "pay";
  reqId: string;
  reservationId: string;
  token: string;
  idempotencyKey: string;
}
export interface PingFrame {
  t: "ping";
  reqId: string;
  clientTime: number;
}
export interface ResumeFrame {
  t: "resume";
  room: string;
  epoch: string;
  offset: string;
}
export interface HostFrame {
  t: "host";
  reqId: string;
  room: string;
  action: HostAction;
}

export type OutFrame =
  | JoinFrame
  | LeaveFrame
  | ChatFrame
  | BuyFrame
  | WaitlistFrame
  | BidFrame
  | CouponFrame
  | DelayFrame
  | PayFrame
  | PingFrame
  | ResumeFrame
  | HostFrame;

/** Builders: one per client frame the scenarios send. */
export const frames = {
  join: (room: string): JoinFrame => ({ t: "join", room }),
  leave: (room: string): LeaveFrame => ({ t: "leave", room }),
  chat: (room: string, text: string, clientMsgId: string): ChatFrame => ({
    t: "chat",
    room,
    text,
    clientMsgId,
  }),
  buy: (reqId: string, dropId: string, qty: number, idempotencyKey: string): BuyFrame => ({
    t: "buy",
    reqId,
    dropId,
    qty,
    idempotencyKey,
  }),
  waitlist: (reqId: string, dropId: string, qty: number, idempotencyKey: string): WaitlistFrame => ({
    t: "waitlist",
    reqId,
    dropId,
    qty,
    idempotencyKey,
  }),
  bid: (reqId: string, dropId: string, maxMinor: number, idempotencyKey: string): BidFrame => ({
    t: "bid",
    reqId,
    dropId,
    maxMinor,
    idempotencyKey,
  }),
  coupon: (reqId: string, room: string, code: string, idempotencyKey: string): CouponFrame => ({
    t: "coupon",
    reqId,
    room,
    code,
    idempotencyKey,
  }),
  delay: (room: string, ms: number, source: DelayFrame["source"]): DelayFrame => ({
    t: "delay",
    room,
    ms,
    source,
  }),
  pay: (reqId: string, reservationId: string, token: string, idempotencyKey: string): PayFrame => ({
    t: "pay",
    reqId,
    reservationId,
    token,
    idempotencyKey,
  }),
  ping: (reqId: string, clientTime: number): PingFrame => ({ t: "ping", reqId, clientTime }),
  resume: (room: string, epoch: string, offset: string): ResumeFrame => ({
    t: "resume",
    room,
    epoch,
    offset,
  }),
  host: (reqId: string, room: string, action: HostAction): HostFrame => ({ t: "host", reqId, room, action }),
} as const;

/** Sandbox payment tokens the gateway's sandbox provider understands (orders/payments/sandbox.ts). */
export const PAYMENT_TOKENS = {
  success: "tok_success",
  declined: "tok_declined",
} as const;

// ---- What the scenarios read from server frames (a subset of each frame's fields). ----

export interface DropView {
  dropId: string;
  roomId: string;
  state: "scheduled" | "live" | "paused" | "sold_out" | "ended";
  /** Server-clock T0, ms. */
  startsAt: number;
  available: number;
  held: number;
  sold: number;
  v: number;
}

export interface ChatMessageView {
  id: string;
  userId: string;
  /** Server clock when posted, ms. */
  at: number;
}

export type BuyResult = {
  kind: "buy";
  reservationId: string;
  dropId: string;
  qty: number;
  deadline: number;
  available: number;
  replayed: boolean;
};
/** An accepted bid (or the recorded answer to a retry with the same key and amount). */
export type BidResult = {
  kind: "bid";
  dropId: string;
  leading: boolean;
  priceMinor: number;
  maxMinor: number;
  endsAt: number;
  extended: boolean;
  bids: number;
  minNextMinor: number;
  replayed: boolean;
};
export type PayResult = { kind: "pay"; reservationId: string; status: OrderStatus };
export type AckResultView =
  | BuyResult
  | PayResult
  | { kind: "entered" }
  | { kind: "waitlist" }
  | BidResult
  | { kind: "host" }
  | { kind: "pin" }
  | { kind: "coupon"; claimId: string; couponId: string; replayed: boolean }
  | { kind: "moderation" };

export type OrderStatus = "pending_payment" | "paid" | "expired" | "cancelled" | "refunded";

export type InFrame =
  | { t: "welcome"; v: number; serverTime: number; connId: string; userId: string }
  | { t: "joined"; room: string; epoch: string; offset: string; drops: DropView[] }
  | { t: "drop"; room: string; o: string; e: string; drop: DropView }
  | {
      t: "stock";
      room: string;
      o: string;
      e: string;
      dropId: string;
      available: number;
      held: number;
      sold: number;
    }
  | { t: "chat"; room: string; messages: ChatMessageView[] }
  | { t: "order"; reservationId: string; status: OrderStatus; dropId: string }
  | { t: "ack"; reqId: string; ok: true; result: AckResultView }
  | { t: "ack"; reqId: string; ok: false; code: string; message: string; retryable?: boolean }
  | { t: "pong"; reqId: string; clientTime: number; serverTime: number }
  | { t: "resync"; room: string; epoch: string; offset: string; drops: DropView[] }
  | { t: "resumed"; room: string; epoch: string; offset: string }
  | { t: "error"; code: string; message: string; reqId?: string; room?: string }
  | {
      t: "auction";
      room: string;
      dropId: string;
      leader: string;
      priceMinor: number;
      endsAt: number;
      bids: number;
      extended: boolean;
    }
  | { t: "auctionEnded"; room: string; dropId: string; reserveMet: boolean; priceMinor?: number }
  | { t: "auctionHold"; dropId: string; reservationId: string; priceMinor: number; deadline: number }
  | { t: "toast" }
  | { t: "viewers" }
  | { t: "moderation" };

export type InFrameType = InFrame["t"];

/** Refusal codes a buyer expects in a flash sale (not failures of the system). */
export const SOLD_OUT_CODES: readonly string[] = ["SOLD_OUT", "INSUFFICIENT_STOCK"];
/** The kill switch's answer to shadow traffic (HTTP 403 body code, WebSocket error code). */
export const SHADOW_DISABLED = "SHADOW_DISABLED";

/**
 * Server time of a room event: its offset is a Redis Stream id `<ms>-<seq>` stamped when the event
 * was logged. Delivery latency = (local receive time + clock offset) − this.
 */
export function offsetTimeMs(offset: string): number {
  const dash = offset.indexOf("-");
  return Number(dash < 0 ? offset : offset.slice(0, dash));
}

/** Compares two stream offsets (`<ms>-<seq>`): negative when a is older. */
export function compareOffsets(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}
