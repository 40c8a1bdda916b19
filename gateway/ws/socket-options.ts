import type { Claims, TokenService } from "../../auth/index.ts";
import { type Logger, loadConfig, type RedisClient } from "../../core/index.ts";
import type { Checkout } from "../../orders/index.ts";
import type { SaleEngine } from "../../sale-engine/index.ts";
import { DEFAULT_GATEWAY_LIMITS, type GatewayLimits } from "../limits.ts";
import type { GatewayMetrics } from "../metrics.ts";

export interface Conn {
  readonly connId: string;
  readonly ip: string;
  readonly claims: Claims;
  readonly rooms: Set<string>;
  /** Per room: the ticket of the membership a pending join serves (a leave or rejoin voids it). */
  readonly tickets: Map<string, number>;
  closed: boolean;
  violations: number;
}

export interface SocketServerOptions {
  readonly engine: SaleEngine;
  readonly checkout: Checkout;
  readonly tokens: TokenService;
  /** Commands (room log). */
  readonly redis: RedisClient;
  /** A dedicated connection for sharded pub/sub subscriptions. */
  readonly subscriber: RedisClient;
  readonly keyPrefix: string;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** Namespace of this lane's uWS topics (topics are per process, shared by every lane). */
  readonly topicPrefix?: string;
  /** Counts buy clicks for the ops funnel; the shadow lane has none. */
  readonly countBuy?: (dropId: string, kind?: "click" | "entry") => void;
  /** Whether this lane serves frames now (the shadow lane's kill switch). Default: always. */
  readonly serving?: () => boolean;
  /** Frames one connection may send per second (GATEWAY_WS_FRAME_RATE). Default 20. */
  readonly frameRate?: number;
  /** Burst of frames per connection after a quiet spell (GATEWAY_WS_FRAME_BURST). Default 40. */
  readonly frameBurst?: number;
  /** Chat messages per second per user and room (GATEWAY_CHAT_RATE). Default 1. */
  readonly chatRate?: number;
  /** Chat burst per user and room (GATEWAY_CHAT_BURST). Default 5. */
  readonly chatBurst?: number;
  /** Rooms one connection may be in (GATEWAY_MAX_ROOMS_PER_SOCKET). Default 8. */
  readonly maxRoomsPerSocket?: number;
  /** Room memberships of one user on this node, all sockets (GATEWAY_MAX_ROOMS_PER_USER). Default 32. */
  readonly maxRoomsPerUser?: number;
  /** Deadline of a step in a room's order, and of a join or resume (GATEWAY_ROOM_STEP_TIMEOUT_MS). Default 3000. */
  readonly roomStepTimeoutMs?: number;
  /** Deadline of an action's Redis or order-store calls (GATEWAY_DEPENDENCY_TIMEOUT_MS). Default 3000. */
  readonly dependencyTimeoutMs?: number;
  /** Drops a `joined` or `resync` snapshot carries at most (GATEWAY_SNAPSHOT_MAX_DROPS). Default 64. */
  readonly snapshotMaxDrops?: number;
  /** Seconds an idle room's log, meta and moderation keys live (GATEWAY_ROOM_IDLE_TTL_S). Default 604800. */
  readonly roomIdleTtlS?: number;
  /** The room appender's lease renewal and drop check interval, ms (GATEWAY_ROOM_APPEND_SCAN_MS). Default 1000. */
  readonly roomAppendScanMs?: number;
  /** Life of the room appender's lease, ms (GATEWAY_ROOM_APPEND_LEASE_MS). Default 3000. */
  readonly roomAppendLeaseMs?: number;
  /** Drop event log entries the room appender reads per call (GATEWAY_ROOM_APPEND_READ_BATCH). Default 200. */
  readonly roomAppendReadBatch?: number;
  /** How often this node writes its changed room delay histograms to Redis, ms (GATEWAY_DELAY_SYNC_MS). Default 1000. */
  readonly delaySyncMs?: number;
  /** Bucket width of the room delay histograms, ms (GATEWAY_DELAY_BUCKET_MS). Default 50. */
  readonly delayBucketMs?: number;
  /** Added to the delays' p95 for the implied fair window, ms (GATEWAY_FAIR_MARGIN_MS). Default 500. */
  readonly fairMarginMs?: number;
  /** The implied fair window's rounding, ms (GATEWAY_FAIR_WINDOW_STEP_MS). Default 250. */
  readonly fairWindowStepMs?: number;
  /** The implied fair window without reports, ms (GATEWAY_FAIR_DEFAULT_WINDOW_MS). Default 3500. */
  readonly fairDefaultWindowMs?: number;
}

/** The room appender's fields are not in GatewayLimits: their defaults come from the config's. */
const CONFIG_DEFAULTS = loadConfig({});

/** The defaults of the optional limits above: the config's defaults of the same fields. */
export const SOCKET_DEFAULTS = {
  frameRate: DEFAULT_GATEWAY_LIMITS.wsFrameRate,
  frameBurst: DEFAULT_GATEWAY_LIMITS.wsFrameBurst,
  chatRate: DEFAULT_GATEWAY_LIMITS.chatRate,
  chatBurst: DEFAULT_GATEWAY_LIMITS.chatBurst,
  maxRoomsPerSocket: DEFAULT_GATEWAY_LIMITS.maxRoomsPerSocket,
  maxRoomsPerUser: DEFAULT_GATEWAY_LIMITS.maxRoomsPerUser,
  roomStepTimeoutMs: DEFAULT_GATEWAY_LIMITS.roomStepTimeoutMs,
  dependencyTimeoutMs: DEFAULT_GATEWAY_LIMITS.dependencyTimeoutMs,
  snapshotMaxDrops: DEFAULT_GATEWAY_LIMITS.snapshotMaxDrops,
  roomIdleTtlS: DEFAULT_GATEWAY_LIMITS.roomIdleTtlS,
  roomAppendScanMs: CONFIG_DEFAULTS.GATEWAY_ROOM_APPEND_SCAN_MS,
  roomAppendLeaseMs: CONFIG_DEFAULTS.GATEWAY_ROOM_APPEND_LEASE_MS,
  roomAppendReadBatch: CONFIG_DEFAULTS.GATEWAY_ROOM_APPEND_READ_BATCH,
  delaySyncMs: DEFAULT_GATEWAY_LIMITS.delaySyncMs,
  delayBucketMs: DEFAULT_GATEWAY_LIMITS.delayBucketMs,
  fairMarginMs: DEFAULT_GATEWAY_LIMITS.fairMarginMs,
  fairWindowStepMs: DEFAULT_GATEWAY_LIMITS.fairWindowStepMs,
  fairDefaultWindowMs: DEFAULT_GATEWAY_LIMITS.fairDefaultWindowMs,
} as const;

/** The socket options of a gateway's limits (both lanes get the same). */
export function socketLimits(l: GatewayLimits) {
  return {
    frameRate: l.wsFrameRate,
    frameBurst: l.wsFrameBurst,
    chatRate: l.chatRate,
    chatBurst: l.chatBurst,
    maxRoomsPerSocket: l.maxRoomsPerSocket,
    maxRoomsPerUser: l.maxRoomsPerUser,
    roomStepTimeoutMs: l.roomStepTimeoutMs,
    dependencyTimeoutMs: l.dependencyTimeoutMs,
    snapshotMaxDrops: l.snapshotMaxDrops,
    roomIdleTtlS: l.roomIdleTtlS,
    roomAppendScanMs: l.roomAppendScanMs,
    roomAppendLeaseMs: l.roomAppendLeaseMs,
    roomAppendReadBatch: l.roomAppendReadBatch,
    delaySyncMs: l.delaySyncMs,
    delayBucketMs: l.delayBucketMs,
    fairMarginMs: l.fairMarginMs,
    fairWindowStepMs: l.fairWindowStepMs,
    fairDefaultWindowMs: l.fairDefaultWindowMs,
  } satisfies Partial<SocketServerOptions>;
}
