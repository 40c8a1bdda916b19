export type { GatewayMetrics } from "./metrics.ts";
export { GatewayServer, type GatewayServerOptions } from "./server.ts";
