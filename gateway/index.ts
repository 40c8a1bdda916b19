export {
  type Claims,
  canHost,
  canModerate,
  type Role,
  resolveTokenSecret,
  TokenService,
  type VerifyResult,
} from "./auth/index.ts";
export type { ShadowLane } from "./lane.ts";
export { DEFAULT_GATEWAY_LIMITS, type GatewayLimits, gatewayLimitsFromConfig } from "./limits.ts";
export type { GatewayMetrics } from "./metrics.ts";
export { GatewayServer, type GatewayServerOptions } from "./server.ts";
export { ShadowSwitch } from "./shadow-switch.ts";
export { RoomBroadcaster } from "./ws/room-broadcaster.ts";
