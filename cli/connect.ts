import {
  type Config,
  config,
  connectRedis,
  describeTarget,
  ErrorCode,
  redisTargetFromConfig,
  SetupError,
} from "../core/index.ts";
import { presenceEligibility } from "../gateway/index.ts";
import { type OrderStore, openOrderStore } from "../orders/index.ts";
import { SaleEngine } from "../sale-engine/index.ts";

/**
 * A sale engine for one CLI command: fails fast (no endless reconnects) with a message that
 * says where it looked for Redis.
 */
export async function openEngine(options: { waitForRedis?: boolean } = {}): Promise<SaleEngine> {
  const cfg = config();
  const target = redisTargetFromConfig(cfg);
  // A one-shot command fails fast; a long-running worker keeps reconnecting through restarts.
  const redis = connectRedis(
    target,
    options.waitForRedis
      ? { lazyConnect: true }
      : { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null },
  );
  redis.on("error", () => {});
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    const hint = target.embedded ? " Is `npm start` running? Or set REDIS_URL / REDIS_CLUSTER_NODES." : "";
    throw new SetupError(
      ErrorCode.DEPENDENCY_MISSING,
      `cannot reach Redis at ${describeTarget(target)}: ${(err as Error).message.replace(/\.+$/, "")}.${hint}`,
    );
  }
  return SaleEngine.create({
    redis,
    prefix: cfg.LIVEDROP_KEY_PREFIX,
    ownsConnection: true,
    ackConfig: cfg,
    // A giveaway drawn here (the worker's fair pass) skips entrants the gateways do not see in the room.
    eligibleAtDraw: presenceEligibility(redis, cfg.LIVEDROP_KEY_PREFIX),
  });
}

/** The order store of this configuration: PostgreSQL with DATABASE_URL, else the embedded PGlite. */
export function openStore(cfg: Config = config()): Promise<OrderStore> {
  return openOrderStore(cfg);
}
