import { z } from "zod";
import { port } from "./config-types.ts";

/** The gateway's fields of the configuration (core/config.ts composes them). */
export const gatewayConfigFields = {
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
  GATEWAY_REDIS_HEALTH_MS: z.coerce
    .number()
    .int()
    .min(500)
    .max(300_000)
    .default(5_000)
    .describe(
      "How often each gateway samples Redis (one PING and one INFO memory) for its latency and memory gauges, ms. Default 5000: fresh enough for the one-minute Redis alerts.",
    ),
  GATEWAY_ROOM_LOG_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3_650)
    .default(30)
    .describe(
      "Room log entries (chat messages and moderation notices among them) older than this are trimmed from every room log, days; beside the per-room length cap. Default 30.",
    ),
  GATEWAY_ROOM_LOG_TRIM_INTERVAL_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(3_600)
    .describe(
      "How often each gateway node trims every room log of its lanes to the retention, seconds. Default 3600 (an hour).",
    ),
  GATEWAY_AUDIT_INBOX_DRAIN_MS: z.coerce
    .number()
    .int()
    .min(50)
    .max(60_000)
    .default(1_000)
    .describe(
      "How often a gateway moves the audit rows that CLI commands handed over through Redis (while the embedded order store was held by the running stack) into the audit log, milliseconds. Default 1000.",
    ),
  GATEWAY_GUEST_TOKEN_TTL_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 24 * 3600)
    .default(86_400)
    .describe("Lifetime of issued guest tokens, seconds. Default 86400 (a day)."),
  GATEWAY_DELAY_SYNC_MS: z.coerce
    .number()
    .int()
    .min(50)
    .max(60_000)
    .default(1_000)
    .describe(
      "How often each gateway node writes the rooms' playback delay histograms that changed to Redis, where every node reads them, ms; an unchanged room is rewritten every 5 rounds, and a node's histogram silent for 10 rounds no longer counts. Default 1000.",
    ),
  GATEWAY_DELAY_BUCKET_MS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(50)
    .describe(
      "Width of a bucket of the room delay histogram, ms: percentiles read at most this much above the true delay. Default 50.",
    ),
  GATEWAY_FAIR_MARGIN_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(500)
    .describe(
      'Added to the p95 of a room\'s playback delays for the fair window it implies (a drop created with fairWindowMs "auto"), ms. Default 500.',
    ),
  GATEWAY_FAIR_WINDOW_STEP_MS: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(250)
    .describe(
      "The implied fair window is rounded up to a multiple of this, ms (then capped at 60000, the longest fair window). Default 250.",
    ),
  GATEWAY_FAIR_DEFAULT_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1)
    .max(60_000)
    .default(3_500)
    .describe(
      "The fair window a room implies while none of its viewers reported a playback delay, ms. Default 3500: covers HLS viewers, a few seconds behind.",
    ),
  GATEWAY_DRAW_CACHE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(1_000)
    .describe(
      "How long a gateway node answers GET /api/v1/drops/:dropId/draw from its last read of the draw before it reads and checks it again, ms; requests meanwhile share that one read and check (reading and checking a draw of 5000 entries took about 35 ms of CPU, 40 to 60 ms in all, on a loaded 2-core machine). 0: every request reads. Default 1000.",
    ),
};
