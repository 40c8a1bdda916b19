import { ErrorCode, LivedropError } from "./errors.ts";

/**
 * What ioredis and Redis say when the connection or the cluster failed rather than the command:
 * closed or unwritable connections, timeouts, exhausted retries, a slot being moved or failed
 * over, a node still loading, a demoted master refusing writes. The same request may be sent again
 * (every write of the engine is idempotent), so callers hear a retryable UNAVAILABLE, not a 500.
 */
const CONNECTION_FAILURE =
  /^(Connection is closed|Stream isn't writeable|Command timed out|Reached the max retries per request|Failed to refresh slots cache|None of startup nodes is available|CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|MASTERDOWN|READONLY)\b|\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH)\b/;

/** A retryable UNAVAILABLE for a Redis connection failure; undefined for any other error. */
export function redisUnavailable(err: unknown): LivedropError | undefined {
  if (!(err instanceof Error) || err instanceof LivedropError) return undefined;
  if (!CONNECTION_FAILURE.test(err.message)) return undefined;
  return new LivedropError(ErrorCode.UNAVAILABLE, "Redis is unavailable or failing over: retry shortly", {
    cause: err.message,
  });
}
