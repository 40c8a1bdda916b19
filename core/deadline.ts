import { ErrorCode, LivedropError } from "./errors.ts";

/**
 * Settles like `work`, or rejects with a retryable UNAVAILABLE error after `ms`. A client waiting
 * on a dependency that is away (ioredis queues commands while it reconnects) hears within a
 * bounded time; the work itself is not cancelled and may still complete later, which is why every
 * caller of this sits behind an idempotency key or an order: the retry returns what the first
 * attempt did.
 */
export function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  /** Called once when the deadline passes first (e.g. to mark the work abandoned). */
  onExpire?: () => void,
): Promise<T> {
  // A late failure of abandoned work must not surface as an unhandled rejection.
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpire?.();
      reject(
        new LivedropError(ErrorCode.UNAVAILABLE, `${what} did not answer within ${ms} ms: retry shortly`, {
          retryable: true,
        }),
      );
    }, ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
