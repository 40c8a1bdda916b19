import type { TokenService } from "../auth/index.ts";
import { ValidationError } from "../core/index.ts";
import { Buyers } from "./buyers.ts";
import { call } from "./http.ts";
import type { ChaosOptions } from "./options.ts";
import type { ChaosPostgres } from "./postgres-host.ts";
import type { ChaosRedisCluster } from "./redis-cluster.ts";
import type { Service } from "./services.ts";
import type { Topology } from "./topology.ts";

export const FAULTS = [
  "redis-master-kill",
  "redis-master-partition",
  "gateway-cut",
  "worker-kill",
  "postgres-restart",
  "gateway-kill-at-open",
] as const;
export type FaultName = (typeof FAULTS)[number];

/** Everything a fault may hit, and the drops the run checks. */
export interface World {
  readonly options: ChaosOptions;
  readonly topology: Topology;
  readonly redis: ChaosRedisCluster;
  readonly pg: ChaosPostgres;
  readonly gateways: readonly Service[];
  readonly workers: readonly Service[];
  readonly tokens: TokenService;
  readonly hostToken: string;
  readonly room: string;
  readonly mainDrop: string;
  /** Drops opened by the gateway-kill-at-open fault, with the buyers that raced for them. */
  readonly openingDrops: { dropId: string; buyers: Buyers }[];
  readonly log: (line: string) => void;
}

export function schedule(options: ChaosOptions, rng: () => number): FaultName[] {
  if (options.faults) {
    const unknown = options.faults.filter((f) => !(FAULTS as readonly string[]).includes(f));
    if (unknown.length > 0)
      throw new ValidationError(`unknown faults ${unknown.join(", ")} (known: ${FAULTS.join(", ")})`);
    return options.faults as FaultName[];
  }
  if (options.quick) return ["redis-master-kill", "gateway-cut"];
  const order: FaultName[] = [...FAULTS];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j] as FaultName, order[i] as FaultName];
  }
  return order;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(items: readonly T[], rng: () => number): T => items[Math.floor(rng() * items.length)] as T;

/** Injects one fault and waits until the system is whole again; returns what it did. */
export async function runFault(name: FaultName, w: World, rng: () => number): Promise<string> {
  const o = w.options;
  switch (name) {
    case "redis-master-kill": {
      const master = await w.redis.masterHostFor(`{${w.mainDrop}}`);
      await w.redis.kill(master);
      const promoted = await w.redis.waitForPromotion(master, `{${w.mainDrop}}`);
      // The dead node comes back on its data and rejoins as a replica: the cluster is 3 + 3 again.
      await w.redis.restart(master);
      await w.redis.waitUntilHealthy();
      return `SIGKILL master ${master} of the drop's slot; ${promoted} promoted; ${master} rejoined as replica`;
    }
    case "redis-master-partition": {
      const master = await w.redis.masterHostFor(`{${w.mainDrop}}`);
      await w.topology.cut(master);
      const promoted = await w.redis.waitForPromotion(master, `{${w.mainDrop}}`);
      await sleep(Math.max(0, o.cutMs - o.nodeTimeoutMs));
      await w.topology.heal(master);
      await w.redis.waitUntilHealthy();
      return `cut master ${master} off for longer than the node timeout; ${promoted} promoted; healed`;
    }
    case "gateway-cut": {
      const gateway = pick(w.gateways, rng);
      await w.topology.cut(gateway.host);
      await sleep(o.cutMs);
      await w.topology.heal(gateway.host);
      await gateway.waitReady();
      return `cut ${gateway.host}'s link for ${o.cutMs} ms; healed`;
    }
    case "worker-kill": {
      const worker = pick(w.workers, rng);
      await worker.kill();
      await sleep(o.settleMs);
      await worker.start();
      return `SIGKILL ${worker.role} on ${worker.host}; the other worker carried on; started again`;
    }
    case "postgres-restart": {
      await w.pg.restart();
      await w.pg.waitReady();
      await Promise.all(w.workers.map((s) => s.waitReady()));
      return "PostgreSQL stopped (fast) and started again";
    }
    case "gateway-kill-at-open": {
      const gateway = pick(w.gateways, rng);
      const dropId = `open${w.openingDrops.length + 1}`;
      const startsAt = Date.now() + 2_000;
      const created = await call(
        "POST",
        `${(w.gateways.find((g) => g !== gateway) ?? gateway).baseUrl}/api/v1/rooms/${w.room}/drops`,
        w.hostToken,
        dropBody(dropId, 50, startsAt),
        5_000,
      );
      if (created.status !== 201 && created.status !== 200)
        throw new Error(`creating ${dropId} failed: HTTP ${created.status} ${created.code}`);
      const buyers = new Buyers({
        gateways: w.gateways.map((g) => g.baseUrl),
        dropId,
        tokens: w.tokens,
        concurrency: o.buyers,
        paceMs: 20,
        retryForMs: 30_000,
        callTimeoutMs: 3_000,
        payShare: 0.5,
        runTag: dropId,
      });
      w.openingDrops.push({ dropId, buyers });
      buyers.start();
      await sleep(Math.max(0, startsAt - Date.now()) + 200);
      await gateway.kill();
      await sleep(1_000);
      await gateway.start();
      await sleep(3_000);
      await buyers.stop();
      return `SIGKILL gateway ${gateway.host} 200 ms after ${dropId} opened; started again`;
    }
  }
}

export function dropBody(dropId: string, stock: number, startsAt?: number): Record<string, unknown> {
  return {
    dropId,
    product: {
      sku: "CHAOS-1",
      title: "Chaos run item",
      priceMinor: 100,
      currency: "USD",
      imageUrl: "https://example.com/chaos.png",
    },
    initialStock: stock,
    perUserLimit: 1,
    // Longer than any run: no hold expires before the end check counts it.
    holdMs: 3_600_000,
    ...(startsAt === undefined ? {} : { startsAt }),
  };
}
