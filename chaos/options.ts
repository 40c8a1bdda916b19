import { ValidationError } from "../core/index.ts";

/** The chaos run's options (`npm run chaos -- --seed 7 --quick --ack-replicas 0`), with their defaults. */
export interface ChaosOptions {
  /** Seeds the order of the faults and which master / gateway / worker each hits. Default 1. */
  readonly seed: number;
  /** One master kill and one gateway cut only (under 3 minutes). Default false. */
  readonly quick: boolean;
  /**
   * LIVEDROP_ACK_REPLICAS given to the gateways: a count, or `auto` (wait for a replica only while
   * the drop's master has one). Default 1 (the topology has one replica per master).
   */
  readonly ackReplicas: number | "auto";
  /** Stock of the main drop: large, so buying never stops for lack of it. Default 100000. */
  readonly stock: number;
  /** Purchases in flight at once. Default 4. */
  readonly buyers: number;
  /** WebSocket viewers in the room. Default 6. */
  readonly viewers: number;
  /** redis cluster-node-timeout, ms. Default 2000. */
  readonly nodeTimeoutMs: number;
  /** How long a partition or a cut link lasts, ms. Default 3 × the node timeout. */
  readonly cutMs: number;
  /** Pause after each fault's recovery before the next fault, ms. Default 3000. */
  readonly settleMs: number;
  /** Bound of every wait for a server to come up or a cluster to settle, ms. Default 90000. */
  readonly startTimeoutMs: number;
  /** How long the end check waits for every acknowledged hold's order, ms. Default 60000. */
  readonly drainMs: number;
  /** Only these faults, in this order (`--faults a,b`). Default: all of them, in the seeded order. */
  readonly faults: readonly string[] | undefined;
  /** Copy the services' logs here before the run's folder is removed (`--keep-logs DIR`). Default: not kept. */
  readonly keepLogs: string | undefined;
}

export const DEFAULTS: ChaosOptions = {
  seed: 1,
  quick: false,
  ackReplicas: 1,
  stock: 100_000,
  buyers: 4,
  viewers: 6,
  nodeTimeoutMs: 2_000,
  cutMs: 6_000,
  settleMs: 3_000,
  startTimeoutMs: 90_000,
  drainMs: 60_000,
  faults: undefined,
  keepLogs: undefined,
};

/** Parses argv; a bad option throws with what was expected. */
export function parseChaosArgs(argv: readonly string[]): ChaosOptions {
  const o: Record<string, number | boolean | string | readonly string[] | undefined> = { ...DEFAULTS };
  const numeric: Record<string, keyof ChaosOptions> = {
    "--seed": "seed",
    "--ack-replicas": "ackReplicas",
    "--stock": "stock",
    "--buyers": "buyers",
    "--viewers": "viewers",
  };
  let cutGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--quick") o.quick = true;
    else if (arg === "--ack-replicas" && argv[i + 1] === "auto") o.ackReplicas = argv[++i];
    else if (arg in numeric) {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 0)
        throw new ValidationError(`${arg} takes a whole number >= 0`);
      o[numeric[arg] as string] = value;
    } else if (arg === "--cut-ms") {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1)
        throw new ValidationError("--cut-ms takes a whole number of ms >= 1");
      o.cutMs = value;
      cutGiven = true;
    } else if (arg === "--keep-logs") {
      const dir = argv[++i];
      if (!dir) throw new ValidationError("--keep-logs takes a folder");
      o.keepLogs = dir;
    } else if (arg === "--faults") {
      o.faults = (argv[++i] ?? "").split(",").filter((f) => f !== "");
    } else
      throw new ValidationError(
        `unknown option ${arg} (known: --seed N, --quick, --faults a,b, --keep-logs DIR, --ack-replicas N|auto, --stock N, --buyers N, --viewers N, --cut-ms MS)`,
      );
  }
  if (!cutGiven) o.cutMs = 3 * (o.nodeTimeoutMs as number);
  if ((o.buyers as number) < 1) throw new ValidationError("--buyers takes at least 1");
  return o as unknown as ChaosOptions;
}
