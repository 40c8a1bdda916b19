export { startGatewayNode } from "./gateway-node.ts";
export { type RunningStack, startStack } from "./launcher.ts";
export { freePort, isPortFree } from "./ports.ts";
export { type PrivatePostgres, startPrivatePostgres } from "./postgres-server.ts";
export { type RedisClusterOptions, RedisClusterProcess } from "./redis-cluster.ts";
export { type RedisServerOptions, RedisServerProcess, waitForPong } from "./redis-server.ts";
export { type OpenShadowLane, openShadowLane, shadowConfig, shadowKeyPrefix } from "./shadow-lane.ts";
