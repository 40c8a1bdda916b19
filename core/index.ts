export { type Config, config, configSchema, FAULT_POINTS, loadConfig } from "./config.ts";
export { withDeadline } from "./deadline.ts";
export {
  ConflictError,
  ErrorCode,
  HttpRefusal,
  isLivedropError,
  LivedropError,
  MediaErrorCode,
  NotFoundError,
  RejectedError,
  SetupError,
  ValidationError,
} from "./errors.ts";
export { childLogger, type Logger, logger } from "./logger.ts";
export { type LuaCommands, type LuaScriptSpec, luaCommands, type ScriptReply } from "./lua.ts";
export { type PeriodicPass, repeatPass } from "./periodic.ts";
export { RateLimiter } from "./rate-limit.ts";
export {
  connectRedis,
  connectSubscriber,
  describeTarget,
  type RedisClient,
  type RedisTarget,
  redisTargetFromConfig,
} from "./redis.ts";
export { redisUnavailable } from "./redis-unavailable.ts";
export { seeded } from "./seeded-random.ts";
export { validate } from "./validate.ts";
