import { ErrorCode, LivedropError } from "../../core/index.ts";

/**
 * `work`, or the retryable UNAVAILABLE error once `ms` passed. ioredis queues commands while it
 * reconnects, so without a deadline a caller waits as long as Redis is away; with it the caller
 * hears "try again" in time. The work itself is not cancelled: an action that does happen later
 * is found again by a retry with the same idempotency key.
 */
export function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  onExpire?: () => void,
): Promise<T> {
  // A late failure of abandoned work must not surface as an unhandled rejection.
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpire?.();
      reject(new LivedropError(ErrorCode.UNAVAILABLE, `${what} did not answer within ${ms} ms: retry`));
    }, ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
