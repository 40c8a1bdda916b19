import path from "node:path";
import { z } from "zod";
import { auctionsConfigFields } from "./config-auctions.ts";
import { gatewayConfigFields } from "./config-gateway.ts";
import { mediaConfigFields } from "./config-media.ts";
import { reportsConfigFields } from "./config-reports.ts";
import { telemetryConfigFields } from "./config-telemetry.ts";
import { port } from "./config-types.ts";
import { ErrorCode, SetupError } from "./errors.ts";

/**
 * The one place that reads `process.env`. Every field's description (schema metadata) states its
 * default and unit; docs/configuration.md is generated from the schema (`npm run docs:config`).
 * Parsed once, on first use; `loadConfig(env)` parses an explicit map (tests, CLI flags).
 */
const appendfsync = z.enum(["always", "everysec"]);
const logLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** Steps of a payment at which LIVEDROP_FAULT_POINT can crash the process (tests only). */
export const FAULT_POINTS = [
  "after-attempt-recorded",
  "after-capture",
  "after-capture-recorded",
  "after-confirm",
  "after-order-paid",
] as const;

export const configSchema = z.object({
  LIVEDROP_DATA_DIR: z
    .string()
    .min(1)
    .default(".livedrop")
    .describe(
      "Data directory of the embedded servers: the Redis AOF in `redis/`, PGlite in `orders/`, the generated token secret. Default `.livedrop` (relative to the working directory).",
    ),
  REDIS_URL: z
    .url()
    .optional()
    .describe("External Redis (production). Unset: `npm start` runs an embedded redis-server."),
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/, "expected host:port[,host:port...]")
    .optional()
    .describe(
      "Redis Cluster seed nodes, `host:port,host:port`. Takes precedence over REDIS_URL. Default unset (a single Redis).",
    ),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "expected postgres://...")
    .optional()
    .describe(
      "PostgreSQL for orders (production), `postgres://user:pass@host:port/db`. Unset: the embedded PGlite store in `<LIVEDROP_DATA_DIR>/orders`.",
    ),
  PGLITE_SHARED_BUFFERS_MB: z.coerce
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(16)
    .describe(
      "Shared buffers of the embedded PGlite order store, MB (PostgreSQL's default is 128). PGlite runs in this process, so its buffers count against its memory; the order tables of a promotion fit in a few MB. Default 16.",
    ),
  LIVEDROP_REDIS_PORT: port
    .default(6390)
    .describe("Loopback port of the embedded redis-server. Default 6390."),
  LIVEDROP_APPENDFSYNC: appendfsync
    .default("always")
    .describe(
      "AOF fsync policy of the embedded sale Redis. `always` (default): an acknowledged hold survives a crash of the machine; `everysec`: up to ~1 s of acknowledged holds can be lost on power failure, in exchange for throughput (docs/operations.md, Durability).",
    ),
  LIVEDROP_REDIS_RESTART_MIN_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(600_000)
    .default(500)
    .describe(
      "First wait before the launcher restarts an embedded redis-server that died, milliseconds; doubles after each failed restart up to LIVEDROP_REDIS_RESTART_MAX_MS. Default 500.",
    ),
  LIVEDROP_REDIS_RESTART_MAX_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(3_600_000)
    .default(10_000)
    .describe("Longest wait between restarts of the embedded redis-server, milliseconds. Default 10000."),
  LIVEDROP_STOP_STEP_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(5_000)
    .describe(
      "Longest one shutdown step (a component's stop) may take before a long-running command moves on to the next, milliseconds. Default 5000.",
    ),
  LIVEDROP_STOP_GRACE_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(3_600_000)
    .default(30_000)
    .describe(
      "Longest a whole shutdown (SIGINT/SIGTERM) may take; after it the process exits anyway (exit code 1), logging what was still running. Milliseconds, default 30000.",
    ),
  LIVEDROP_KEY_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]{1,24}$/i)
    .default("ld")
    .describe(
      "Namespace in front of every Redis key. Default `ld`. 1-24 letters, digits, `-`, `_` (the shadow lane uses `<prefix>-shadow`).",
    ),
  LIVEDROP_ACK_REPLICAS: z
    .union([z.literal("auto"), z.coerce.number().int().min(0).max(5)])
    .default("auto")
    .describe(
      "Replicas a hold (reserve) or payment (confirm) must reach before the buyer hears yes: Redis `WAIT` after the script, one per batch. 0-5 or `auto`. Default `auto`: 1 when the Redis master the drop lives on has a replica (a single Redis: INFO replication `connected_slaves` > 0; Redis Cluster: the slot's master lists a replica that is not failed in CLUSTER SLOTS), else 0; re-checked every LIVEDROP_ACK_AUTO_CHECK_MS. 0 sends no `WAIT`.",
    ),
  LIVEDROP_ACK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1)
    .max(60_000)
    .default(500)
    .describe(
      "Timeout of the `WAIT` behind a replicated acknowledgement, milliseconds. Default 500. Fewer replicas than asked by then: the buyer gets the retryable `REPLICATION_TIMEOUT`; a retry with the same idempotency key answers the same hold once a replica has it.",
    ),
  LIVEDROP_ACK_AUTO_CHECK_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(5000)
    .describe(
      "How old the `auto` answer of LIVEDROP_ACK_REPLICAS may get before the next acknowledgement checks again in the background (INFO replication on a single Redis; on a cluster the slot table ioredis refreshes itself), milliseconds. Default 5000.",
    ),
  WORKER_HOST: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe(
      "Bind address of `livedrop worker`'s probe server (/healthz, /readyz, /metrics). Default `127.0.0.1` (set `0.0.0.0` in a pod).",
    ),
  WORKER_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(9464)
    .describe("Port of `livedrop worker`'s probe server. Default 9464; 0 picks a free port (tests)."),
  LIVEDROP_EXPIRE_SWEEP_MS: z.coerce
    .number()
    .int()
    .min(50)
    .max(60_000)
    .default(1000)
    .describe("Interval of the hold-expiry sweep, milliseconds. Default 1000."),
  LIVEDROP_FAIR_PASS_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(10_000)
    .default(100)
    .describe(
      "Longest sleep of the worker's fair pass, milliseconds. The pass wakes at the next close it knows of, so a fair window or raffle is drawn within milliseconds of its close; this bounds how late a close that a launch moved earlier since the last pass is seen. Default 100. A pass reads one small index; only drops whose close has come are visited.",
    ),
  LIVEDROP_MAX_FAIR_ENTRIES: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(5000)
    .describe(
      "Most entries one fair window or raffle takes (a drop keeps the value it was created with); buys past it are told to retry after the draw. Cost: the allocation is one Redis script that blocks the drop's Redis for its run, and the draw event lists every entry (about 115 bytes each). Measured script times: about 100 ms for 5000 entries (575 KB event), 0.6-0.9 s for 20000 (2.3 MB), 1.9 s for 100000 (11.5 MB, a raffle) on a shared 2-core machine. Default 5000, 1-100000.",
    ),
  LIVEDROP_WAITLIST_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(10_000)
    .describe(
      "Most waiting tickets one drop's waitlist takes; a join past it is refused WAITLIST_FULL. Tickets are small hash fields (about 100 bytes each). Default 10000.",
    ),
  LIVEDROP_ORDER_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(32)
    .describe("Order jobs each worker process runs at once (BullMQ worker concurrency). Default 32."),
  LIVEDROP_RECONCILE_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(5_000)
    .describe(
      "How often the reconciler compares active drops' holds with the order store and queues what is missing, ms. Default 5000.",
    ),
  LIVEDROP_RECONCILE_GRACE_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(600_000)
    .default(10_000)
    .describe(
      "How old a hold must be before the reconciler creates its missing order itself (the relay gets this long first), ms. Default 10000.",
    ),
  ...gatewayConfigFields,
  ...mediaConfigFields,
  ...telemetryConfigFields,
  ...reportsConfigFields,
  ...auctionsConfigFields,
  LIVEDROP_PAYMENT_RECONCILE_MS: z.coerce
    .number()
    .int()
    .min(50)
    .max(600_000)
    .default(5_000)
    .describe(
      "How often the payment reconciler looks for payment attempts a crash left unfinished, ms. Default 5000.",
    ),
  LIVEDROP_PAYMENT_STUCK_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400_000)
    .default(30_000)
    .describe(
      "How long a payment attempt may sit at one step (started, captured) before the payment reconciler finishes it, ms. Default 30000; keep it well above the payment provider's timeout, so a payment still in flight is not taken for a crashed one.",
    ),
  LIVEDROP_PAYMENT_RECONCILE_BATCH: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(200)
    .describe("Unfinished payment attempts one payment reconciler pass handles at most. Default 200."),
  LIVEDROP_FAULT_POINT: z
    .enum(FAULT_POINTS)
    .optional()
    .describe(
      "Test hook, never for production: a checkout step (see FAULT_POINTS) at which the process SIGKILLs itself, to prove that a crash there loses no money. Default unset (no fault).",
    ),
  LIVEDROP_SHADOW: z
    .enum(["on", "off"])
    .default("on")
    .describe(
      "Shadow (load-test) traffic: `on` (default) runs a shadow lane beside the live one — tokens with the shadow claim buy shadow stock under the `<prefix>-shadow` Redis keys, with their own BullMQ queues, order tables and sandbox payments only; admins can stop it at once with the kill switch. `off`: no shadow lane, shadow tokens are refused (SHADOW_DISABLED).",
    ),
  LOG_LEVEL: logLevel.default("info").describe("pino log level. Default `info`."),
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
