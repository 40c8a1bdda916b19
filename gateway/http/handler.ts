import type { HttpResponse } from "uWebSockets.js";
import { ErrorCode, HttpRefusal, isLivedropError, type Logger, redisUnavailable } from "../../core/index.ts";
import type { GatewayMetrics } from "../metrics.ts";
import { BodyError } from "./read-body.ts";
import { type GuardedResponse, guard, sendError } from "./respond.ts";

/** HTTP status for each stable error code (anything unknown is a 500). */
const STATUS_OF_CODE: Partial<Record<string, number>> = {
  [ErrorCode.INVALID_INPUT]: 400,
  [ErrorCode.DROP_NOT_FOUND]: 404,
  [ErrorCode.RESERVATION_NOT_FOUND]: 404,
  [ErrorCode.ORDER_NOT_FOUND]: 404,
  [ErrorCode.DROP_CONFLICT]: 409,
  [ErrorCode.IDEMPOTENCY_KEY_REUSED]: 409,
  [ErrorCode.ALREADY_CONFIRMED]: 409,
  [ErrorCode.ALREADY_RELEASED]: 409,
  [ErrorCode.ORDER_STATE_CONFLICT]: 409,
  [ErrorCode.NOT_STARTED]: 409,
  [ErrorCode.ENDED]: 409,
  [ErrorCode.PAUSED]: 409,
  [ErrorCode.SOLD_OUT]: 409,
  [ErrorCode.LIMIT_EXCEEDED]: 409,
  [ErrorCode.INSUFFICIENT_STOCK]: 409,
  [ErrorCode.STOCK_OVERFLOW]: 409,
  [ErrorCode.WAITLIST_CLOSED]: 409,
  [ErrorCode.WAITLIST_FULL]: 409,
  [ErrorCode.AUCTION_NOT_FOUND]: 404,
  [ErrorCode.AUCTION_NOT_STARTED]: 409,
  [ErrorCode.AUCTION_ENDED]: 409,
  [ErrorCode.BID_TOO_LOW]: 409,
  [ErrorCode.ALREADY_LEADING]: 409,
  [ErrorCode.NOT_PINNED]: 409,
  [ErrorCode.COUPON_NOT_FOUND]: 404,
  [ErrorCode.COUPON_NOT_ACTIVE]: 409,
  [ErrorCode.COUPON_EXHAUSTED]: 409,
  [ErrorCode.COUPON_LIMIT_REACHED]: 409,
  [ErrorCode.COUPON_NOT_APPLICABLE]: 409,
  [ErrorCode.HOLD_EXPIRED]: 410,
  [ErrorCode.PAYMENT_DECLINED]: 402,
  [ErrorCode.PAYMENT_TIMEOUT]: 504,
  [ErrorCode.DEPENDENCY_MISSING]: 503,
  [ErrorCode.UNAVAILABLE]: 503,
  [ErrorCode.REPLICATION_TIMEOUT]: 503,
};

export { HttpRefusal };

export interface HandlerContext {
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
}

/**
 * Runs a route handler with the abort guard registered first, metrics, and one mapping from
 * errors to responses: typed errors keep their code, anything unexpected is a logged 500.
 */
export function handle(
  ctx: HandlerContext,
  route: string,
  res: HttpResponse | GuardedResponse,
  handler: (g: GuardedResponse) => void | Promise<void>,
): void {
  const g: GuardedResponse = isGuarded(res) ? res : guard(res);
  const end = ctx.metrics.httpDuration.startTimer({ route });
  Promise.resolve()
    .then(() => handler(g))
    .catch((caught: unknown) => {
      const err = redisUnavailable(caught) ?? caught;
      if (err instanceof HttpRefusal || err instanceof BodyError)
        return sendError(g, err.status, err.code, err.message);
      if (isLivedropError(err) && STATUS_OF_CODE[err.code]) {
        return sendError(
          g,
          STATUS_OF_CODE[err.code] as number,
          err.code,
          err.message,
          err.details ? { ...err.details } : undefined,
        );
      }
      ctx.log.error({ err, route }, "gateway handler failed");
      sendError(g, 500, ErrorCode.INTERNAL, "internal error");
    })
    .finally(() => {
      end();
      ctx.metrics.httpRequests.inc({ route, status: g.status === undefined ? "aborted" : String(g.status) });
    });
}

function isGuarded(res: HttpResponse | GuardedResponse): res is GuardedResponse {
  return "aborted" in res && "res" in res;
}
