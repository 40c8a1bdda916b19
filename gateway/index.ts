export type { ShadowLane } from "./lane.ts";
export { DEFAULT_GATEWAY_LIMITS, type GatewayLimits, gatewayLimitsFromConfig } from "./limits.ts";
export type { GatewayMetrics } from "./metrics.ts";
export { presenceEligibility, presentUsers } from "./rooms/presence.ts";
export { GatewayServer, type GatewayServerOptions } from "./server.ts";
export { eraseUser, exportUser, type UserDataLane } from "./user-data.ts";
export { RoomBroadcaster } from "./ws/room-broadcaster.ts";
