import { ErrorCode, LivedropError } from "./errors.ts";

/**
 * Settles like `work`, or rejects with a retryable UNAVAILABLE error after `ms`. A client waiting
 * on a dependency that is away (ioredis queues commands while it reconnects) hears within a
 * bounded time; the work itself may still complete later, which is why every caller of this
 * sits behind an idempotency key: the retry returns what the first attempt did.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new LivedropError(
            ErrorCode.UNAVAILABLE,
            `${what} did not complete within ${ms} ms; retry shortly`,
            {
              retryable: true,
            },
          ),
        ),
      ms,
    );
  });
  work.catch(() => undefined); // a late failure after the deadline answered is not unhandled
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
