import path from "node:path";
import { z } from "zod";
import { ErrorCode, SetupError } from "./errors.ts";

/**
 * The one place that reads `process.env`. Every field's description (schema metadata) states its
 * default and unit; docs/configuration.md is generated from the schema (`npm run docs:config`).
 * Parsed once, on first use; `loadConfig(env)` parses an explicit map (tests, CLI flags).
 */
const appendfsync = z.enum(["always", "everysec"]);
const logLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
const port = z.coerce.number().int().min(1).max(65535);

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
  LIVEDROP_EXPIRE_SWEEP_MS: z.coerce
    .number()
    .int()
    .min(50)
    .max(60_000)
    .default(1000)
    .describe("Interval of the hold-expiry sweep, milliseconds. Default 1000."),
  GATEWAY_HOST: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe("Gateway bind address. Default `127.0.0.1` (set `0.0.0.0` behind a load balancer)."),
  GATEWAY_PORT: port.default(8080).describe("Gateway HTTP + WebSocket port. Default 8080."),
  GATEWAY_TOKEN_SECRET: z
    .string()
    .min(32, "at least 32 characters")
    .optional()
    .describe(
      "Secret for signing access tokens (HS256), at least 32 characters. Unset: a random secret is generated once and kept in `<LIVEDROP_DATA_DIR>/token-secret` (single-node development). Every gateway node of a deployment must share one secret.",
    ),
  GATEWAY_MAX_CONNS_PER_IP: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(5_000)
    .describe(
      "WebSocket connections one client address may hold on a node. Default 5000: generous, since mobile carriers put many viewers behind one address.",
    ),
  GATEWAY_REUSE_PORT: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((v) => v === "true" || v === "1")
    .describe(
      "`true`: the gateway listens with SO_REUSEPORT, so several processes may share its port (the kernel spreads connections among them). Default `false`: the port is exclusive, and a second gateway on a taken port exits with an error instead of silently taking connections.",
    ),
  GATEWAY_TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, "expected an address or CIDR")))
    .describe(
      "Proxies whose `X-Forwarded-For` the gateway believes, comma-separated CIDRs or addresses (e.g. `10.0.0.0/8,127.0.0.1`). The client address is the right-most address of that header not itself a trusted proxy. Default empty: the peer address is the client address.",
    ),
  GATEWAY_API_USER_RATE: z.coerce
    .number()
    .min(0.1)
    .max(1_000_000)
    .default(20)
    .describe("HTTP API calls a signed-in user may make, per second, per node. Default 20."),
  GATEWAY_API_USER_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(60)
    .describe("Burst of API calls a signed-in user may make after a quiet spell. Default 60."),
  GATEWAY_API_ADDRESS_RATE: z.coerce
    .number()
    .min(0.1)
    .max(1_000_000)
    .default(50)
    .describe(
      "HTTP API calls without a (valid) token per client address, per second, per node. Default 50: anonymous calls are the public reads and guest-token requests.",
    ),
  GATEWAY_API_ADDRESS_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(100)
    .describe("Burst of anonymous API calls per client address. Default 100."),
  GATEWAY_GUEST_TOKEN_RATE: z.coerce
    .number()
    .min(0.01)
    .max(1_000_000)
    .default(2)
    .describe("Guest tokens one client address may obtain per second, per node. Default 2."),
  GATEWAY_GUEST_TOKEN_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(10)
    .describe("Burst of guest tokens per client address. Default 10."),
  GATEWAY_WS_FRAME_RATE: z.coerce
    .number()
    .min(0.1)
    .max(100_000)
    .default(20)
    .describe("WebSocket frames one connection may send per second. Default 20."),
  GATEWAY_WS_FRAME_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(40)
    .describe("Burst of WebSocket frames per connection after a quiet spell. Default 40."),
  GATEWAY_CHAT_RATE: z.coerce
    .number()
    .min(0.01)
    .max(1_000)
    .default(1)
    .describe(
      "Chat messages one user may post per second in a room, per node (moderators are exempt). Default 1.",
    ),
  GATEWAY_CHAT_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(5)
    .describe("Burst of chat messages one user may post in a room after a quiet spell. Default 5."),
  GATEWAY_MAX_ROOMS_PER_SOCKET: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(8)
    .describe("Rooms one WebSocket connection may be in at once. Default 8."),
  GATEWAY_MAX_ROOMS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(32)
    .describe("Room memberships one user may hold at once on a node, all its sockets together. Default 32."),
  GATEWAY_ROOM_STEP_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(3_000)
    .describe(
      "Deadline of one step in a room's delivery order (a join batch, a resume replay, a delivery), milliseconds. A step past it is abandoned (counted in `/metrics`), its joins answered with a retryable error, and the room's later steps go on. Default 3000.",
    ),
  GATEWAY_DEPENDENCY_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(3_000)
    .describe(
      "Longest a buy, pay or host action waits on Redis or the order store before the caller gets the retryable `UNAVAILABLE` answer, milliseconds. Default 3000. A retry with the same idempotency key returns the original answer if the action did happen.",
    ),
  GATEWAY_SNAPSHOT_MAX_DROPS: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .default(64)
    .describe(
      "Drops a room snapshot (`joined`, `resync`) carries at most: the active ones first. Default 64.",
    ),
  GATEWAY_ROOM_IDLE_TTL_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(365 * 86_400)
    .default(604_800)
    .describe(
      "A room log (and its meta) idle this long expires from Redis, seconds. Default 604800 (7 days).",
    ),
  GATEWAY_ROOM_APPEND_SCAN_MS: z.coerce
    .number()
    .int()
    .min(50)
    .max(60_000)
    .default(1_000)
    .describe(
      "How often the lane's room appender (the one node holding its lease) renews the lease, looks for new drops and checks each drop's event log against the room log, milliseconds. Default 1000.",
    ),
  GATEWAY_ROOM_APPEND_LEASE_MS: z.coerce
    .number()
    .int()
    .min(150)
    .max(600_000)
    .default(3_000)
    .describe(
      "Life of the room appender's lease, milliseconds: after the holder dies, drop events wait at most this long (plus one scan) before another node logs them, none lost. Default 3000.",
    ),
  GATEWAY_ROOM_APPEND_READ_BATCH: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(200)
    .describe("Drop event log entries the room appender reads per call while it catches up. Default 200."),
  GATEWAY_GUEST_TOKEN_TTL_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 24 * 3600)
    .default(86_400)
    .describe("Lifetime of issued guest tokens, seconds. Default 86400 (a day)."),
  MEDIA_HOST: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe("Media HTTP server bind address (signaling, HLS, metrics). Default `127.0.0.1`."),
  MEDIA_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(8090)
    .describe("Media HTTP port. Default 8090; 0 picks a free port (tests)."),
  MEDIA_PUBLIC_URL: z
    .url()
    .optional()
    .describe(
      "Public base URL of the media server (HLS playlist URLs). Default `http://MEDIA_HOST:MEDIA_PORT`.",
    ),
  MEDIA_WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe("mediasoup workers (processes, one core each). Default: one per core."),
  MEDIA_WORKER_BIN: z
    .string()
    .min(1)
    .default(
      `/usr/lib/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/mediasoup/mediasoup-worker`,
    )
    .meta({
      description:
        "The mediasoup-worker binary; must be version 3.8.4 like the npm library. Default: the Debian `mediasoup-worker` package's path (`dpkg -L mediasoup-worker`).",
      // The default depends on the machine's architecture; the generated docs show it as a pattern.
      docDefault: "/usr/lib/<arch>-linux-gnu/mediasoup/mediasoup-worker",
    }),
  MEDIA_LISTEN_IP: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe(
      "IP the WebRTC and RTP sockets bind to. Default `127.0.0.1` (`0.0.0.0` plus MEDIA_ANNOUNCED_IP in production).",
    ),
  MEDIA_ANNOUNCED_IP: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Public IP put in ICE candidates when it differs from MEDIA_LISTEN_IP (NAT, cloud). Default unset.",
    ),
  MEDIA_RTC_MIN_PORT: port
    .default(40_000)
    .describe("Lowest UDP/TCP port of the workers' RTC range. Default 40000."),
  MEDIA_RTC_MAX_PORT: port
    .default(49_999)
    .describe("Highest UDP/TCP port of the workers' RTC range. Default 49999."),
  MEDIA_MAX_CONSUMERS_PER_ROUTER: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(500)
    .describe(
      "Consumers a room's router takes before new viewers go to another router (on the next worker) fed through pipeToRouter. Default 500.",
    ),
  MEDIA_HLS: z
    .enum(["true", "false", "1", "0"])
    .default("true")
    .transform((v) => v === "true" || v === "1")
    .describe("HLS egress for live rooms (`true`/`false`). Default `true`."),
  MEDIA_HLS_DIR: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Folder for HLS playlists and segments, one subfolder per room. Default `<LIVEDROP_DATA_DIR>/hls`.",
    ),
  MEDIA_HLS_SEGMENT_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .default(1)
    .describe("HLS segment length, seconds (also the keyframe request interval). Default 1."),
  MEDIA_HLS_LIST_SIZE: z.coerce
    .number()
    .int()
    .min(2)
    .max(60)
    .default(6)
    .describe("Segments kept in the rolling HLS playlist (older ones are deleted). Default 6."),
  MEDIA_INGEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(600_000)
    .default(10_000)
    .describe(
      "An RTP ingest that sends nothing for this long is closed (the room ends), milliseconds. Default 10000.",
    ),
  MEDIA_FFMPEG_BIN: z
    .string()
    .min(1)
    .default("ffmpeg")
    .describe("ffmpeg binary for HLS egress and `livedrop broadcast`. Default `ffmpeg` (on PATH)."),
  MEDIA_PEER_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(2_000)
    .max(600_000)
    .default(15_000)
    .describe(
      "A WebRTC transport that received nothing (media or RTCP) for this long is closed: a vanished host ends the room, a vanished viewer frees its consumers. mediasoup 3.8.4 has no ICE consent timeout over UDP, so this is how a closed tab is noticed. Milliseconds, default 15000.",
    ),
  MEDIA_SIGNALING_ADDRESS_RATE: z.coerce
    .number()
    .min(0.1)
    .max(1_000_000)
    .default(100)
    .describe(
      "Media signaling calls per client address, per second. Default 100 (HLS files, health and metrics are not counted).",
    ),
  MEDIA_SIGNALING_ADDRESS_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(300)
    .describe("Burst of media signaling calls per client address after a quiet spell. Default 300."),
  MEDIA_SIGNALING_USER_RATE: z.coerce
    .number()
    .min(0.1)
    .max(1_000_000)
    .default(10)
    .describe("Media signaling calls per signed-in user, per second. Default 10 (a WebRTC join is ~7)."),
  MEDIA_SIGNALING_USER_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(40)
    .describe("Burst of media signaling calls per signed-in user after a quiet spell. Default 40."),
  MEDIA_HTTP_HEADERS_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(10_000)
    .describe(
      "A media HTTP request whose headers have not all arrived this long after it began is answered 408 and its socket closed (slowloris), milliseconds. Default 10000; at most the request timeout.",
    ),
  MEDIA_HTTP_REQUEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(30_000)
    .describe(
      "Longest a media HTTP request (headers and body) may take to arrive, milliseconds. Default 30000. Responses are not bounded by it: event streams stay open.",
    ),
  MEDIA_HTTP_KEEPALIVE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(5_000)
    .describe(
      "An idle keep-alive connection to the media server is closed after this, milliseconds. Default 5000.",
    ),
  MEDIA_MAX_TRANSPORTS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(10)
    .describe(
      "Transports (WebRTC and RTP ingest) one user id may hold open on a media node, all rooms together; past it, 429 MEDIA_TRANSPORT_LIMIT. Default 10 (a viewer needs one, a host one or two).",
    ),
  MEDIA_MAX_TRANSPORTS_PER_ROOM: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(4_000)
    .describe(
      "Viewers' receive transports one room may hold on a media node; past it, 429 MEDIA_TRANSPORT_LIMIT. Hosts' transports are not counted, so a host can always go live. Default 4000 (each takes a UDP and a TCP port of the RTC range).",
    ),
  MEDIA_CONNECT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(15_000)
    .describe(
      "A WebRTC transport whose DTLS is not connected this long after it was opened is closed, and its ports and limit slots come back (abandoned or hostile joins), milliseconds. Default 15000.",
    ),
  MEDIA_MAX_ROOMS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(2)
    .describe(
      "Rooms one host (user id) may hold open on a media node at once: a room opens when its host fetches capabilities, opens a send transport or an ingest, and counts until it ends. Past it, 429 MEDIA_ROOM_LIMIT. Default 2.",
    ),
  MEDIA_MAX_ROOMS: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(200)
    .describe(
      "Rooms (each with its mediasoup routers) a media node holds at once; past it, 429 MEDIA_ROOM_LIMIT. Default 200.",
    ),
  MEDIA_ROOM_IDLE_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(60_000)
    .describe(
      "A room that is not live and has no transport this long is closed (a host that never went live), ms. Default 60000.",
    ),
  MEDIA_MAX_EVENT_STREAMS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(8)
    .describe(
      "Room event streams (SSE) one user id may hold open on a media node; past it, 429 MEDIA_EVENT_STREAM_LIMIT. Default 8.",
    ),
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
