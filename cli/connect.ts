import {
  config,
  connectRedis,
  describeTarget,
  ErrorCode,
  redisTargetFromConfig,
  SetupError,
} from "../core/index.ts";
import { SaleEngine } from "../sale-engine/index.ts";

/**
 * A sale engine for one CLI command: fails fast (no endless reconnects) with a message that
 * says where it looked for Redis.
 */
export async function openEngine(): Promise<SaleEngine> {
  const cfg = config();
  const target = redisTargetFromConfig(cfg);
  const redis = connectRedis(target, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
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
  return SaleEngine.create({ redis, prefix: cfg.LIVEDROP_KEY_PREFIX, ownsConnection: true });
}
