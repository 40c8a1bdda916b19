export { type Leftovers, remainsOf, removeLeftovers } from "./leftovers.ts";
export { type Host, Topology, type TopologyOptions } from "./topology.ts";
