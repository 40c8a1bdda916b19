import path from "node:path";
import { z } from "zod";
import { ErrorCode, SetupError } from "./errors.ts";

/**
 * The one place that reads `process.env`. Every field documents its default and unit.
 * Parsed once, on first use; `loadConfig(env)` parses an explicit map (tests, CLI flags).
 */
const appendfsync = z.enum(["always", "everysec"]);
const logLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
const port = z.coerce.number().int().min(1).max(65535);

export const configSchema = z.object({
  /** Data directory for embedded servers (Redis AOF, later PGlite). Default `./.livedrop`. */
  LIVEDROP_DATA_DIR: z.string().min(1).default(".livedrop"),
  /** External Redis (production). Unset: `npm start` runs an embedded redis-server. */
  REDIS_URL: z.url().optional(),
  /** Redis Cluster seed nodes, `host:port,host:port`. Takes precedence over REDIS_URL. */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/, "expected host:port[,host:port...]")
    .optional(),
  /**
   * PostgreSQL for orders (production), `postgres://user:pass@host:port/db`. Unset: the embedded
   * PGlite store in `<LIVEDROP_DATA_DIR>/orders`.
   */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "expected postgres://...")
    .optional(),
  /** Loopback port of the embedded redis-server. Default 6390. */
  LIVEDROP_REDIS_PORT: port.default(6390),
  /**
   * AOF fsync policy of the embedded sale Redis. `always` (default): an acknowledged hold
   * survives a crash of the machine; `everysec`: up to ~1 s of acknowledged holds can be lost
   * on power failure, in exchange for throughput (README lists measured numbers).
   */
  LIVEDROP_APPENDFSYNC: appendfsync.default("always"),
  /** Namespace in front of every Redis key. Default `ld`. Letters, digits, `-`, `_`. */
  LIVEDROP_KEY_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/i)
    .default("ld"),
  /** Interval of the hold-expiry sweep, milliseconds. Default 1000. */
  LIVEDROP_EXPIRE_SWEEP_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /** Gateway bind address. Default `127.0.0.1` (set `0.0.0.0` behind a load balancer). */
  GATEWAY_HOST: z.string().min(1).default("127.0.0.1"),
  /** Gateway HTTP + WebSocket port. Default 8080. */
  GATEWAY_PORT: port.default(8080),
  /**
   * Secret for signing access tokens (HS256), at least 32 characters. Unset: a random secret
   * is generated once and kept in `<LIVEDROP_DATA_DIR>/token-secret` (single-node development).
   * Every gateway node of a deployment must share one secret.
   */
  GATEWAY_TOKEN_SECRET: z.string().min(32, "at least 32 characters").optional(),
  /**
   * WebSocket connections one client address may hold on a node. Default 5000: generous, since
   * mobile carriers put many viewers behind one address.
   */
  GATEWAY_MAX_CONNS_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(5_000),
  /** Lifetime of issued guest tokens, seconds. Default 86400 (a day). */
  GATEWAY_GUEST_TOKEN_TTL_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 24 * 3600)
    .default(86_400),
  /** pino log level. Default `info`. */
  LOG_LEVEL: logLevel.default("info"),
});

export type Config = z.infer<typeof configSchema> & { readonly dataDir: string };

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new SetupError(ErrorCode.CONFIG_INVALID, `invalid configuration: ${problems.join("; ")}`, {
      problems,
    });
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.LIVEDROP_DATA_DIR) };
}

let cached: Config | undefined;

/** The process-wide configuration, parsed from the environment on first call. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
