/**
 * Stable codes of the wire protocol: `error.code` / `ack.code` strings and WebSocket close codes.
 * Part of the public contract with every deployed client: never rename or renumber, only add.
 */
export const WireErrorCode = {
  // Frame problems: the frame was dropped, the connection stays open.
  /** Not a JSON object (invalid JSON, binary that is not UTF-8, an array, null, a number). */
  BAD_FRAME: "BAD_FRAME",
  /** `t` names no frame this server knows: the client is newer than the server. */
  UNKNOWN_TYPE: "UNKNOWN_TYPE",
  /** A known frame whose fields fail the schema; the message names the field. */
  INVALID_FRAME: "INVALID_FRAME",
  /** Over the server's frame size limit (the server may also close with MESSAGE_TOO_BIG). */
  FRAME_TOO_LARGE: "FRAME_TOO_LARGE",
  /** Too many frames per second: slow down. */
  RATE_LIMITED: "RATE_LIMITED",

  // Access.
  /** No valid token: get a new one (guest token endpoint) and reconnect. */
  UNAUTHORIZED: "UNAUTHORIZED",
  /** The token's role or rooms do not allow this action. */
  FORBIDDEN: "FORBIDDEN",
  /** The frame names a room this connection has not joined. */
  NOT_IN_ROOM: "NOT_IN_ROOM",
  /** The room (or this node's share of it) is at capacity: try again later. */
  ROOM_FULL: "ROOM_FULL",
  /** This connection or user is in as many rooms as allowed: leave one first. */
  TOO_MANY_ROOMS: "TOO_MANY_ROOMS",
  /** Shadow (load-test) traffic is switched off (kill switch, or no shadow lane on this deployment). */
  SHADOW_DISABLED: "SHADOW_DISABLED",

  // Chat.
  /** Chat text over the length limit (500 characters after trimming). */
  CHAT_TOO_LONG: "CHAT_TOO_LONG",
  /** Slow mode is on: wait before the next message. */
  SLOW_MODE: "SLOW_MODE",
  /** Timed out by a moderator: chat is refused until the timeout ends. */
  MUTED: "MUTED",
  /** Banned from this room. */
  BANNED: "BANNED",

  // Sale and order answers, forwarded as the sale engine and checkout return them.
  NOT_STARTED: "NOT_STARTED",
  ENDED: "ENDED",
  PAUSED: "PAUSED",
  SOLD_OUT: "SOLD_OUT",
  LIMIT_EXCEEDED: "LIMIT_EXCEEDED",
  INSUFFICIENT_STOCK: "INSUFFICIENT_STOCK",
  IDEMPOTENCY_KEY_REUSED: "IDEMPOTENCY_KEY_REUSED",
  DROP_NOT_FOUND: "DROP_NOT_FOUND",
  ORDER_NOT_FOUND: "ORDER_NOT_FOUND",
  HOLD_EXPIRED: "HOLD_EXPIRED",
  /** A host restock would pass the drop's stock ceiling. */
  STOCK_OVERFLOW: "STOCK_OVERFLOW",
  /** The drop takes no waitlist now (not sold out, not live, a raffle, or switched off). */
  WAITLIST_CLOSED: "WAITLIST_CLOSED",
  /** The drop's waitlist is full: try again later. */
  WAITLIST_FULL: "WAITLIST_FULL",
  /** A buy-it-now drop that the host has not pinned (or unpinned): it sells only while pinned. */
  NOT_PINNED: "NOT_PINNED",
  /** The drop's draw is not published yet: its entries are still open. */
  DRAW_OPEN: "DRAW_OPEN",
  AUCTION_NOT_FOUND: "AUCTION_NOT_FOUND",
  AUCTION_NOT_STARTED: "AUCTION_NOT_STARTED",
  AUCTION_ENDED: "AUCTION_ENDED",
  /** Below the lowest acceptable bid; the answer carries the minimum next bid. */
  BID_TOO_LOW: "BID_TOO_LOW",
  /** The bidder leads already and the bid is not above their own maximum. */
  ALREADY_LEADING: "ALREADY_LEADING",
  COUPON_NOT_FOUND: "COUPON_NOT_FOUND",
  COUPON_NOT_ACTIVE: "COUPON_NOT_ACTIVE",
  COUPON_EXHAUSTED: "COUPON_EXHAUSTED",
  COUPON_LIMIT_REACHED: "COUPON_LIMIT_REACHED",
  COUPON_NOT_APPLICABLE: "COUPON_NOT_APPLICABLE",
  PAYMENT_DECLINED: "PAYMENT_DECLINED",
  PAYMENT_TIMEOUT: "PAYMENT_TIMEOUT",
  /**
   * A dependency (Redis, the order store) did not answer in time: retry after a short backoff
   * with the same idempotency key; if the first attempt did happen, the retry returns its answer.
   */
  UNAVAILABLE: "UNAVAILABLE",
  /**
   * The buy or payment was recorded but not yet confirmed by enough Redis replicas in time:
   * retry after a short backoff with the same idempotency key; the retry answers the same hold
   * (`replayed: true`) or payment once a replica has it.
   */
  REPLICATION_TIMEOUT: "REPLICATION_TIMEOUT",
  /** The server failed; the request may be retried with the same idempotency key. */
  INTERNAL: "INTERNAL",
} as const;
export type WireErrorCode = (typeof WireErrorCode)[keyof typeof WireErrorCode];

/**
 * WebSocket close codes. 4000-4999 is the range RFC 6455 leaves to applications; 1009 is the
 * standard "message too big". Each comment says what the client should do.
 */
export const CloseCode = {
  /** A frame over the size limit (uWS closes with it itself): reconnect with backoff; never resend it. */
  MESSAGE_TOO_BIG: 1009,
  /** Repeated bad frames: a client bug; reconnect with backoff, report it. */
  PROTOCOL_ERROR: 4000,
  /** Token missing, invalid or expired: get a new token, then reconnect. */
  UNAUTHORIZED: 4001,
  /** The token does not allow what the connection asked for: do not reconnect as is. */
  FORBIDDEN: 4003,
  /** Back-pressure: state events would have been lost; reconnect and resume from the last offset. */
  TOO_SLOW: 4008,
  /** Too many frames or connections: reconnect after a backoff of seconds, then resume. */
  RATE_LIMITED: 4029,
  /** Banned: do not reconnect. */
  BANNED: 4031,
  /** This node is shutting down: reconnect at once (the load balancer picks another) and resume. */
  SERVER_SHUTDOWN: 4050,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** What a client does after a close, so every client reacts to a code the same way. */
export type CloseAction = "resume" | "resume-after-backoff" | "new-token" | "stop";

export const CLOSE_ACTION: Readonly<Record<CloseCode, CloseAction>> = {
  [CloseCode.MESSAGE_TOO_BIG]: "resume-after-backoff",
  [CloseCode.PROTOCOL_ERROR]: "resume-after-backoff",
  [CloseCode.UNAUTHORIZED]: "new-token",
  [CloseCode.FORBIDDEN]: "stop",
  [CloseCode.TOO_SLOW]: "resume",
  [CloseCode.RATE_LIMITED]: "resume-after-backoff",
  [CloseCode.BANNED]: "stop",
  [CloseCode.SERVER_SHUTDOWN]: "resume",
};

/** The action for any close code; codes not listed here (1006 and the like) mean reconnect with backoff. */
export function closeAction(code: number): CloseAction {
  return Object.hasOwn(CLOSE_ACTION, code) ? CLOSE_ACTION[code as CloseCode] : "resume-after-backoff";
}
