import { Cluster } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ChaosRedisCluster, Topology } from "../../chaos/index.ts";
import type { RedisClient } from "../../core/index.ts";

const HOSTS = ["r1", "r2", "r3", "r4", "r5", "r6"];
const OPTIONS = {
  hosts: HOSTS,
  replicas: 1,
  nodeTimeoutMs: 2_000,
  appendfsync: "always",
  settleTimeoutMs: 45_000,
} as const;

/** Building six nodes, a failover and a rejoin take tens of seconds on a loaded machine. */
const TEST_TIMEOUT_MS = 180_000;

let topology: Topology | undefined;
let client: RedisClient | undefined;
afterEach(async () => {
  client?.disconnect();
  client = undefined;
  await topology?.destroy();
  topology = undefined;
});

/**
 * Writes `value` and waits for one replica on the key's own master: WAIT has no key, so sent on its
 * own a Cluster client routes it to any node, where it proves nothing about this write. In one
 * pipeline it rides with the SET to the node of the key's slot, on the same connection.
 */
async function setReplicated(redis: RedisClient, key: string, value: string): Promise<unknown> {
  const results = await redis.pipeline().set(key, value).call("WAIT", "1", "2000").exec();
  for (const [err] of results ?? []) if (err) throw err;
  return results?.[1]?.[1];
}

/** Retries a command (bounded) while the cluster fails over; resolves with its first success. */
async function eventually<T>(what: string, call: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (Date.now() > until) throw new Error(`${what}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function startCluster(): Promise<{ cluster: ChaosRedisCluster; redis: RedisClient }> {
  topology = await Topology.create({ hosts: HOSTS });
  const cluster = await ChaosRedisCluster.start(topology, OPTIONS);
  // A cut-off master drops packets without a reset: a command sent to it fails only by a command
  // timeout, and nothing makes the client look up the new master but a periodic slot refresh.
  client = new Cluster(
    cluster.seeds.map((s) => ({ host: s.split(":")[0] as string, port: 6379 })),
    { slotsRefreshInterval: 1_000, redisOptions: { commandTimeout: 1_000 } },
  );
  return { cluster, redis: client };
}

describe("chaos Redis Cluster (3 masters + 3 replicas, one per namespace)", () => {
  it(
    "promotes the replica of a SIGKILLed master; replicated writes survive and the client follows",
    async () => {
      const { cluster, redis } = await startCluster();
      const key = "{drop:chaos-kill}:stock";
      // Acknowledged by one replica before the kill: it must survive the failover.
      expect(await setReplicated(redis, key, "42")).toBe(1);
      const master = await cluster.masterHostFor(key);

      await cluster.kill(master);
      const promoted = await cluster.waitForPromotion(master, key);
      expect(promoted).not.toBe(master);
      expect(await eventually("read after failover", () => redis.get(key))).toBe("42");
      await eventually("write after failover", () => redis.incr(key));
      expect(await redis.get(key)).toBe("43");

      // The killed node comes back with its data and rejoins as a replica of the new master.
      await cluster.restart(master);
      await cluster.waitUntilHealthy();
      const nodes = await cluster.nodes();
      const old = nodes.find((n) => cluster.hostOf(n.address) === master);
      expect(old?.role).toBe("replica");
      expect(nodes.filter((n) => n.role === "master" && n.slots.length > 0)).toHaveLength(3);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a master cut off for longer than the node timeout is replaced, and rejoins as a replica once healed",
    async () => {
      const { cluster, redis } = await startCluster();
      const key = "{drop:chaos-cut}:stock";
      expect(await setReplicated(redis, key, "7")).toBe(1);
      const master = await cluster.masterHostFor(key);

      await (topology as Topology).cut(master);
      const promoted = await cluster.waitForPromotion(master, key);
      expect(promoted).not.toBe(master);
      expect(await eventually("read while the old master is cut off", () => redis.get(key))).toBe("7");

      await (topology as Topology).heal(master);
      await cluster.waitUntilHealthy();
      const old = (await cluster.nodes()).find((n) => cluster.hostOf(n.address) === master);
      expect(old?.role).toBe("replica");
      expect(await eventually("read after heal", () => redis.get(key))).toBe("7");
    },
    TEST_TIMEOUT_MS,
  );
});
