export { FAULTS, type FaultName } from "./faults.ts";
export { type Leftovers, remainsOf, removeLeftovers } from "./leftovers.ts";
export { type ChaosOptions, DEFAULTS as CHAOS_DEFAULTS, parseChaosArgs } from "./options.ts";
export { type ClusterNode, parseClusterNodes, redisCli } from "./redis-cli.ts";
export { ChaosRedisCluster, type ChaosRedisOptions } from "./redis-cluster.ts";
export { type ChaosSummary, runChaos } from "./run.ts";
export { exitOnSignals } from "./signals.ts";
export { type Host, Topology, type TopologyOptions } from "./topology.ts";
export { until } from "./wait.ts";
