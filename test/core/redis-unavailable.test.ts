import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode, redisUnavailable } from "../../core/index.ts";
import { wireError } from "../../gateway/ws/frames.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";

let redis: PrivateRedis | undefined;
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await redis?.stop();
  redis = undefined;
});

/** The error a real call raises, for the mapping to judge. */
async function failure(call: () => Promise<unknown>): Promise<Error> {
  try {
    await call();
  } catch (err) {
    return err as Error;
  }
  throw new Error("the call was expected to fail");
}

describe("Redis failures that a caller may retry", () => {
  it("a stopped Redis answers UNAVAILABLE (retryable on the wire), a command error stays what it is", async () => {
    redis = await startPrivateRedis();
    const url = new URL(redis.url);
    const c = new Redis({ host: url.hostname, port: Number(url.port), maxRetriesPerRequest: 0 });
    c.on("error", () => {});
    clients.push(c);
    await c.set("k", "v");

    // Errors of the command itself: not a dependency failure, the caller must not retry them.
    const luaError = await failure(() => c.eval("return redis.error_reply('boom')", 0));
    const wrongType = await failure(() => c.lpush("k", "x"));
    expect(redisUnavailable(luaError)).toBeUndefined();
    expect(redisUnavailable(wrongType)).toBeUndefined();
    expect(wireError(wrongType).code).toBe("INTERNAL");

    await redis.stop();
    redis = undefined;
    const down = await failure(() => c.get("k"));
    const mapped = redisUnavailable(down);
    expect(mapped?.code, down.message).toBe(ErrorCode.UNAVAILABLE);
    expect(mapped?.details).toEqual({ cause: down.message });
    expect(wireError(down).code).toBe("UNAVAILABLE");
  });

  it("a closed connection and cluster redirects are retryable; anything else is not", () => {
    for (const message of [
      "Connection is closed.",
      'Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.',
      "CLUSTERDOWN The cluster is down",
      "READONLY You can't write against a read only replica.",
      "connect ECONNREFUSED 127.0.0.1:6379",
    ])
      expect(redisUnavailable(new Error(message))?.code, message).toBe(ErrorCode.UNAVAILABLE);
    for (const message of ["ERR syntax error", "NOSCRIPT No matching script", "boom"])
      expect(redisUnavailable(new Error(message)), message).toBeUndefined();
    expect(redisUnavailable("Connection is closed.")).toBeUndefined();
  });
});
