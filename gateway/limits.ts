import { type Config, loadConfig } from "../core/index.ts";

/** Every limit and deadline of a gateway node; each is a config field (core/config.ts) with its default. */
export interface GatewayLimits {
  readonly maxConnectionsPerIp: number;
  readonly trustedProxies: readonly string[];
  readonly apiUserRate: number;
  readonly apiUserBurst: number;
  readonly apiAddressRate: number;
  readonly apiAddressBurst: number;
  readonly guestTokenRate: number;
  readonly guestTokenBurst: number;
  readonly wsFrameRate: number;
  readonly wsFrameBurst: number;
  readonly chatRate: number;
  readonly chatBurst: number;
  readonly maxRoomsPerSocket: number;
  readonly maxRoomsPerUser: number;
  readonly roomStepTimeoutMs: number;
  readonly dependencyTimeoutMs: number;
  readonly snapshotMaxDrops: number;
  readonly roomIdleTtlS: number;
  readonly roomAppendScanMs: number;
  readonly roomAppendLeaseMs: number;
  readonly roomAppendReadBatch: number;
  readonly roomLogRetentionDays: number;
  readonly roomLogTrimIntervalS: number;
  readonly auditInboxDrainMs: number;
  readonly redisHealthMs: number;
  readonly delaySyncMs: number;
  readonly delayBucketMs: number;
  readonly fairMarginMs: number;
  readonly fairWindowStepMs: number;
  readonly fairDefaultWindowMs: number;
  readonly drawCacheMs: number;
  /** Bids kept per auction's history, and the most one read returns (LIVEDROP_AUCTION_HISTORY_LENGTH). */
  readonly auctionHistoryLength: number;
}

export function gatewayLimitsFromConfig(cfg: Config): GatewayLimits {
  return {
    maxConnectionsPerIp: cfg.GATEWAY_MAX_CONNS_PER_IP,
    trustedProxies: cfg.GATEWAY_TRUSTED_PROXIES,
    apiUserRate: cfg.GATEWAY_API_USER_RATE,
    apiUserBurst: cfg.GATEWAY_API_USER_BURST,
    apiAddressRate: cfg.GATEWAY_API_ADDRESS_RATE,
    apiAddressBurst: cfg.GATEWAY_API_ADDRESS_BURST,
    guestTokenRate: cfg.GATEWAY_GUEST_TOKEN_RATE,
    guestTokenBurst: cfg.GATEWAY_GUEST_TOKEN_BURST,
    wsFrameRate: cfg.GATEWAY_WS_FRAME_RATE,
    wsFrameBurst: cfg.GATEWAY_WS_FRAME_BURST,
    chatRate: cfg.GATEWAY_CHAT_RATE,
    chatBurst: cfg.GATEWAY_CHAT_BURST,
    maxRoomsPerSocket: cfg.GATEWAY_MAX_ROOMS_PER_SOCKET,
    maxRoomsPerUser: cfg.GATEWAY_MAX_ROOMS_PER_USER,
    roomStepTimeoutMs: cfg.GATEWAY_ROOM_STEP_TIMEOUT_MS,
    dependencyTimeoutMs: cfg.GATEWAY_DEPENDENCY_TIMEOUT_MS,
    snapshotMaxDrops: cfg.GATEWAY_SNAPSHOT_MAX_DROPS,
    roomIdleTtlS: cfg.GATEWAY_ROOM_IDLE_TTL_S,
    roomAppendScanMs: cfg.GATEWAY_ROOM_APPEND_SCAN_MS,
    roomAppendLeaseMs: cfg.GATEWAY_ROOM_APPEND_LEASE_MS,
    roomAppendReadBatch: cfg.GATEWAY_ROOM_APPEND_READ_BATCH,
    roomLogRetentionDays: cfg.GATEWAY_ROOM_LOG_RETENTION_DAYS,
    roomLogTrimIntervalS: cfg.GATEWAY_ROOM_LOG_TRIM_INTERVAL_S,
    auditInboxDrainMs: cfg.GATEWAY_AUDIT_INBOX_DRAIN_MS,
    redisHealthMs: cfg.GATEWAY_REDIS_HEALTH_MS,
    delaySyncMs: cfg.GATEWAY_DELAY_SYNC_MS,
    delayBucketMs: cfg.GATEWAY_DELAY_BUCKET_MS,
    fairMarginMs: cfg.GATEWAY_FAIR_MARGIN_MS,
    fairWindowStepMs: cfg.GATEWAY_FAIR_WINDOW_STEP_MS,
    fairDefaultWindowMs: cfg.GATEWAY_FAIR_DEFAULT_WINDOW_MS,
    drawCacheMs: cfg.GATEWAY_DRAW_CACHE_MS,
    auctionHistoryLength: cfg.LIVEDROP_AUCTION_HISTORY_LENGTH,
  };
}

/** The configuration's defaults: what a gateway built without a config (tests, benches) uses. */
export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = gatewayLimitsFromConfig(loadConfig({}));
