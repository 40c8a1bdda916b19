import {
  ConflictError,
  ErrorCode,
  LivedropError,
  NotFoundError,
  RejectedError,
  ValidationError,
} from "../core/index.ts";

/**
 * Codes a sale-engine Lua script can return in its `{0, CODE, ...}` answer: the error codes of
 * core/errors.ts, plus QTY_ABOVE_LIMIT, which surfaces as INVALID_INPUT.
 */
export type ScriptCode =
  | Exclude<
      ErrorCode,
      | "CONFIG_INVALID"
      | "DEPENDENCY_MISSING"
      | "PORT_IN_USE"
      | "UNAVAILABLE"
      | "REPLICATION_TIMEOUT"
      | "INTERNAL"
      | `ORDER_${string}`
      | `PAYMENT_${string}`
    >
  | "QTY_ABOVE_LIMIT";

const MESSAGES: Record<ScriptCode, string> = {
  DROP_NOT_FOUND: "no such drop",
  DROP_CONFLICT: "a drop with this id exists with different parameters",
  RESERVATION_NOT_FOUND: "no such reservation",
  INVALID_INPUT: "invalid input",
  QTY_ABOVE_LIMIT: "quantity is above the per-user limit of this drop",
  NOT_STARTED: "the drop has not started yet",
  ENDED: "the drop has ended",
  PAUSED: "the drop is paused",
  SOLD_OUT: "sold out",
  LIMIT_EXCEEDED: "per-user limit reached",
  INSUFFICIENT_STOCK: "not enough units left for this quantity",
  IDEMPOTENCY_KEY_REUSED: "this idempotency key was used for a different request",
  ALREADY_CONFIRMED: "the reservation is already paid",
  ALREADY_RELEASED: "the reservation was released or expired",
  HOLD_EXPIRED: "the payment deadline has passed; the hold was released",
  STOCK_OVERFLOW: "restock would exceed the stock ceiling",
  WAITLIST_CLOSED: "the drop takes no waitlist now",
  WAITLIST_FULL: "the drop's waitlist is full",
  AUCTION_NOT_FOUND: "no such auction",
  AUCTION_NOT_STARTED: "the auction's bidding has not opened yet",
  AUCTION_ENDED: "the auction's bidding has closed",
  BID_TOO_LOW: "the bid is below the lowest acceptable bid",
  ALREADY_LEADING: "you lead already: a new bid must raise your own maximum",
  NOT_PINNED: "the host has not pinned this product: it sells only while pinned",
  COUPON_NOT_FOUND: "no such coupon or claim",
  COUPON_NOT_ACTIVE: "the coupon is not active: unpinned, expired, or the room is not live",
  COUPON_EXHAUSTED: "the coupon's quota is used up",
  COUPON_LIMIT_REACHED: "you hold as many claims of this coupon as it allows",
  COUPON_NOT_APPLICABLE: "the coupon does not apply to this order",
};

/** The one mapping from a script code to a typed error. */
export function scriptError(code: string, details: Record<string, unknown> = {}): LivedropError {
  const known = Object.hasOwn(MESSAGES, code) ? (code as ScriptCode) : undefined;
  if (!known) return new LivedropError(ErrorCode.INTERNAL, `unexpected sale-engine answer ${code}`, details);
  const message = MESSAGES[known];
  switch (known) {
    case "DROP_NOT_FOUND":
    case "RESERVATION_NOT_FOUND":
    case "COUPON_NOT_FOUND":
    case "AUCTION_NOT_FOUND":
      return new NotFoundError(ErrorCode[known], message, details);
    case "INVALID_INPUT":
    case "QTY_ABOVE_LIMIT":
      return new ValidationError(message, { reason: known, ...details });
    case "DROP_CONFLICT":
    case "IDEMPOTENCY_KEY_REUSED":
    case "ALREADY_CONFIRMED":
    case "ALREADY_RELEASED":
      return new ConflictError(ErrorCode[known], message, details);
    default:
      return new RejectedError(ErrorCode[known], message, details);
  }
}
