/**
 * Error classes with stable codes. Codes are part of the public contract (CLI `--json`, HTTP
 * bodies, WebSocket error frames): never rename one, only add.
 */
export const ErrorCode = {
  INVALID_INPUT: "INVALID_INPUT",
  CONFIG_INVALID: "CONFIG_INVALID",
  DROP_NOT_FOUND: "DROP_NOT_FOUND",
  DROP_CONFLICT: "DROP_CONFLICT",
  RESERVATION_NOT_FOUND: "RESERVATION_NOT_FOUND",
  NOT_STARTED: "NOT_STARTED",
  ENDED: "ENDED",
  PAUSED: "PAUSED",
  SOLD_OUT: "SOLD_OUT",
  LIMIT_EXCEEDED: "LIMIT_EXCEEDED",
  INSUFFICIENT_STOCK: "INSUFFICIENT_STOCK",
  IDEMPOTENCY_KEY_REUSED: "IDEMPOTENCY_KEY_REUSED",
  ALREADY_CONFIRMED: "ALREADY_CONFIRMED",
  ALREADY_RELEASED: "ALREADY_RELEASED",
  HOLD_EXPIRED: "HOLD_EXPIRED",
  STOCK_OVERFLOW: "STOCK_OVERFLOW",
  /** The drop takes no waitlist now: not sold out, not live, a raffle, or its waitlist is off. */
  WAITLIST_CLOSED: "WAITLIST_CLOSED",
  /** The drop's waitlist holds as many waiting tickets as allowed (LIVEDROP_WAITLIST_MAX). */
  WAITLIST_FULL: "WAITLIST_FULL",
  /** No such coupon in the room, or no such claim of this buyer. */
  COUPON_NOT_FOUND: "COUPON_NOT_FOUND",
  /** The coupon is unpinned, past its valid-until, or the room is not live. */
  COUPON_NOT_ACTIVE: "COUPON_NOT_ACTIVE",
  /** The coupon's total quota is given out. */
  COUPON_EXHAUSTED: "COUPON_EXHAUSTED",
  /** The buyer holds or redeemed as many claims of this coupon as it allows. */
  COUPON_LIMIT_REACHED: "COUPON_LIMIT_REACHED",
  /** The claim cannot apply to this order (redeemed, on another order, minimum, currency). */
  COUPON_NOT_APPLICABLE: "COUPON_NOT_APPLICABLE",
  /** A buy-it-now drop sells only while the host pins it. */
  NOT_PINNED: "NOT_PINNED",
  /** No auction with this id. */
  AUCTION_NOT_FOUND: "AUCTION_NOT_FOUND",
  /** The auction's bidding has not opened yet. */
  AUCTION_NOT_STARTED: "AUCTION_NOT_STARTED",
  /** The auction's bidding has closed (its end, as extended, has passed). */
  AUCTION_ENDED: "AUCTION_ENDED",
  /** Below the lowest acceptable bid (details.minMinor names it). */
  BID_TOO_LOW: "BID_TOO_LOW",
  /** The bidder leads and the bid is not above their own standing maximum. */
  ALREADY_LEADING: "ALREADY_LEADING",
  ORDER_NOT_FOUND: "ORDER_NOT_FOUND",
  ORDER_STATE_CONFLICT: "ORDER_STATE_CONFLICT",
  PAYMENT_DECLINED: "PAYMENT_DECLINED",
  PAYMENT_TIMEOUT: "PAYMENT_TIMEOUT",
  DEPENDENCY_MISSING: "DEPENDENCY_MISSING",
  /** A server could not bind its port: another process holds it. */
  PORT_IN_USE: "PORT_IN_USE",
  /** A dependency (Redis, the order store) did not answer in time; retry with the same key. */
  UNAVAILABLE: "UNAVAILABLE",
  /**
   * The hold or payment is recorded on the Redis master, but fewer replicas than
   * LIVEDROP_ACK_REPLICAS confirmed it within LIVEDROP_ACK_TIMEOUT_MS: retry with the same key.
   */
  REPLICATION_TIMEOUT: "REPLICATION_TIMEOUT",
  INTERNAL: "INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Codes of the media tier (HTTP bodies of media/). Kept apart from ErrorCode so the sale
 * engine's script codes (derived from ErrorCode) stay exactly the sale codes.
 */
export const MediaErrorCode = {
  /** A viewer's call (capabilities, receive transport, consume) for a room with no producer. HTTP 409. */
  MEDIA_ROOM_NOT_LIVE: "MEDIA_ROOM_NOT_LIVE",
  MEDIA_TRANSPORT_NOT_FOUND: "MEDIA_TRANSPORT_NOT_FOUND",
  MEDIA_PRODUCER_NOT_FOUND: "MEDIA_PRODUCER_NOT_FOUND",
  MEDIA_CONSUMER_NOT_FOUND: "MEDIA_CONSUMER_NOT_FOUND",
  /** Consume without the device's rtpCapabilities (fetch the router's first). HTTP 409. */
  MEDIA_CAPABILITIES_REQUIRED: "MEDIA_CAPABILITIES_REQUIRED",
  /** The given rtpCapabilities cannot receive the producer's codec. HTTP 409. */
  MEDIA_CANNOT_CONSUME: "MEDIA_CANNOT_CONSUME",
  /** Produce on a receive transport or consume on a send transport. HTTP 409. */
  MEDIA_WRONG_DIRECTION: "MEDIA_WRONG_DIRECTION",
  /** mediasoup refused the call in the current state (e.g. connect twice). HTTP 409. */
  MEDIA_REFUSED: "MEDIA_REFUSED",
  /** The user holds as many transports as allowed, or the room as many viewers' transports. HTTP 429. */
  MEDIA_TRANSPORT_LIMIT: "MEDIA_TRANSPORT_LIMIT",
  /** The node cannot open a transport now (no free RTC port, worker gone): retry later. HTTP 503. */
  MEDIA_UNAVAILABLE: "MEDIA_UNAVAILABLE",
  /** The host already runs as many rooms on this media node as allowed, or the node is full. HTTP 429. */
  MEDIA_ROOM_LIMIT: "MEDIA_ROOM_LIMIT",
  /** The user holds as many open room event streams on this media node as allowed. HTTP 429. */
  MEDIA_EVENT_STREAM_LIMIT: "MEDIA_EVENT_STREAM_LIMIT",
} as const;
export type MediaErrorCode = (typeof MediaErrorCode)[keyof typeof MediaErrorCode];

/** Base class: every error livedrop raises on purpose carries a stable code. */
export class LivedropError extends Error {
  readonly code: ErrorCode | MediaErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode | MediaErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode | MediaErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details
      ? { code: this.code, message: this.message, details: { ...this.details } }
      : { code: this.code, message: this.message };
  }
}

/** The caller sent something malformed; nothing was changed. */
export class ValidationError extends LivedropError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(ErrorCode.INVALID_INPUT, message, details);
  }
}

/** The thing named does not exist. */
export class NotFoundError extends LivedropError {}

/** The request is well formed but the current state refuses it (sold out, paused, ...). */
export class RejectedError extends LivedropError {}

/** The request contradicts an earlier one (different parameters, confirmed vs released). */
export class ConflictError extends LivedropError {}

/** The environment is wrong: bad configuration or a missing system dependency. */
export class SetupError extends LivedropError {}

export function isLivedropError(value: unknown): value is LivedropError {
  return value instanceof LivedropError;
}

/**
 * A refusal an HTTP layer decides itself (auth, body, route, limits), with its status and code.
 * Shared by the gateway's and the media tier's HTTP servers.
 */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
