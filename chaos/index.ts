export { type Leftovers, remainsOf, removeLeftovers } from "./leftovers.ts";
export { type ClusterNode, parseClusterNodes, redisCli } from "./redis-cli.ts";
export { ChaosRedisCluster, type ChaosRedisOptions } from "./redis-cluster.ts";
export { exitOnSignals } from "./signals.ts";
export { type Host, Topology, type TopologyOptions } from "./topology.ts";
export { until } from "./wait.ts";
