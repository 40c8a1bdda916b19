export { parentDeathSupported } from "./dies-with-parent.ts";
export { startGatewayNode } from "./gateway-node.ts";
export { type RunningStack, startStack } from "./launcher.ts";
export { freePort, isPortFree, refuseTakenPort } from "./ports.ts";
export { initdbArgs, type PrivatePostgres, startPrivatePostgres } from "./postgres-server.ts";
export { type ProbeServer, startProbeServer } from "./probe-server.ts";
export { type RedisClusterOptions, RedisClusterProcess } from "./redis-cluster.ts";
export { type RedisExit, type RedisServerOptions, RedisServerProcess, waitForPong } from "./redis-server.ts";
export { type OpenShadowLane, openShadowLane, shadowConfig, shadowKeyPrefix } from "./shadow-lane.ts";
