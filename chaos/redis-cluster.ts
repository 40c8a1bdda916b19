import type { ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { type ClusterNode, parseClusterNodes, redisCli } from "./redis-cli.ts";
import type { Topology } from "./topology.ts";
import { until } from "./wait.ts";

const execFileAsync = promisify(execFile);

export interface ChaosRedisOptions {
  /** The hosts of the nodes, one node per host: masters first, then as many replicas. */
  readonly hosts: readonly string[];
  /** Replicas per master (`--cluster-replicas`). */
  readonly replicas: number;
  /** cluster-node-timeout, milliseconds: how long a silent master has before its replica takes over. */
  readonly nodeTimeoutMs: number;
  readonly appendfsync: "always" | "everysec" | "no";
  /** Bound of every wait for the cluster to settle, milliseconds. */
  readonly settleTimeoutMs: number;
}

const PORT = 6379;

/**
 * A Redis Cluster with one node per host of a topology, each node bound to its host's address
 * (announced as such), made with `redis-cli --cluster create --cluster-replicas N`. Nodes can be
 * SIGKILLed and started again with the same data (they rejoin, as replicas of whoever took over).
 */
export class ChaosRedisCluster {
  private readonly children = new Map<string, ChildProcess>();

  private constructor(
    private readonly topology: Topology,
    readonly options: ChaosRedisOptions,
  ) {}

  static async start(topology: Topology, options: ChaosRedisOptions): Promise<ChaosRedisCluster> {
    const cluster = new ChaosRedisCluster(topology, options);
    for (const host of options.hosts) cluster.startNode(host);
    await Promise.all(options.hosts.map((h) => cluster.waitForPong(h)));
    await execFileAsync(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...cluster.seeds,
        "--cluster-replicas",
        String(options.replicas),
        "--cluster-yes",
      ],
      { timeout: options.settleTimeoutMs },
    );
    await cluster.waitUntilHealthy();
    return cluster;
  }

  /** `host:port` of every node, for REDIS_CLUSTER_NODES. */
  get seeds(): string[] {
    return this.options.hosts.map((h) => `${this.topology.host(h).address}:${PORT}`);
  }

  private startNode(host: string): void {
    const address = this.topology.host(host).address;
    const dir = path.join(this.topology.dataDir, `redis-${host}`);
    mkdirSync(dir, { recursive: true });
    const child = this.topology.spawn(
      host,
      "redis-server",
      [
        "--bind",
        address,
        "--port",
        String(PORT),
        "--protected-mode",
        "no",
        "--dir",
        dir,
        "--logfile",
        path.join(dir, "redis.log"),
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        this.options.appendfsync,
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        String(this.options.nodeTimeoutMs),
        "--cluster-announce-ip",
        address,
      ],
      { stdio: "ignore" },
    );
    this.children.set(host, child);
  }

  private async waitForPong(host: string): Promise<void> {
    const address = this.topology.host(host).address;
    await until(`redis on ${host} answers PING`, this.options.settleTimeoutMs, async () =>
      (await redisCli(address, ["ping"], 1_000))?.trim() === "PONG" ? true : undefined,
    );
  }

  hostOf(address: string): string {
    const host = this.topology.hosts.find((h) => h.address === address);
    if (!host) throw new Error(`no host has address ${address}`);
    return host.name;
  }

  /** The cluster as one reachable node sees it (the first host that answers). */
  async nodes(): Promise<ClusterNode[]> {
    for (const host of this.options.hosts) {
      const text = await redisCli(this.topology.host(host).address, ["cluster", "nodes"], 1_000);
      if (text) return parseClusterNodes(text);
    }
    throw new Error("no Redis node answers");
  }

  /** The host of the master that serves a key now (as the nodes that answer agree). */
  async masterHostFor(key: string): Promise<string> {
    const slot = await this.keySlot(key);
    const master = (await this.nodes()).find(
      (n) => n.role === "master" && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b),
    );
    if (!master) throw new Error(`no master serves slot ${slot}`);
    return this.hostOf(master.address);
  }

  /** The key's hash slot, as the first node that answers computes it. */
  async keySlot(key: string): Promise<number> {
    for (const host of this.options.hosts) {
      const reply = await redisCli(this.topology.host(host).address, ["cluster", "keyslot", key], 1_000);
      if (reply !== undefined && /^\d+$/.test(reply.trim())) return Number(reply.trim());
    }
    throw new Error("no Redis node answers");
  }

  /** SIGKILL the node on host (no shutdown work: what it had not replicated is gone). */
  async kill(host: string): Promise<void> {
    const child = this.children.get(host);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  /** Starts a killed node again with its data and nodes.conf: it rejoins the cluster. */
  async restart(host: string): Promise<void> {
    await this.kill(host);
    this.startNode(host);
    await this.waitForPong(host);
  }

  /**
   * Every node answers, agrees the cluster is ok with all slots, and each master has its
   * replicas connected: the state the next fault may start from.
   */
  async waitUntilHealthy(): Promise<void> {
    await until(
      "Redis Cluster healthy (all slots, every master with its replicas)",
      this.options.settleTimeoutMs,
      async () => {
        for (const host of this.options.hosts) {
          const info = await redisCli(this.topology.host(host).address, ["cluster", "info"], 1_000);
          if (!info?.includes("cluster_state:ok") || !info.includes("cluster_slots_assigned:16384"))
            return undefined;
        }
        const nodes = await this.nodes();
        if (nodes.length !== this.options.hosts.length || nodes.some((n) => n.failed || !n.connected))
          return undefined;
        const masters = nodes.filter((n) => n.role === "master" && n.slots.length > 0);
        const complete = masters.every(
          (m) => nodes.filter((n) => n.masterId === m.id).length >= this.options.replicas,
        );
        if (!complete) return undefined;
        // A replica that never finished its first sync cannot take over (its data has no age).
        for (const replica of nodes.filter((n) => n.role === "replica")) {
          const info = await redisCli(replica.address, ["info", "replication"], 1_000);
          if (!info?.includes("master_link_status:up")) return undefined;
        }
        return true;
      },
    );
  }

  /**
   * Waits until a node other than `oldHost` serves every slot `oldHost` served and the
   * remaining nodes report cluster_state:ok; returns the promoted host.
   */
  async waitForPromotion(oldHost: string, key: string): Promise<string> {
    return until(`a replica of ${oldHost} promoted`, this.options.settleTimeoutMs, async () => {
      const host = await this.masterHostFor(key).catch(() => undefined);
      if (host === undefined || host === oldHost) return undefined;
      const info = await redisCli(this.topology.host(host).address, ["cluster", "info"], 1_000);
      return info?.includes("cluster_state:ok") ? host : undefined;
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.options.hosts.map((h) => this.kill(h)));
  }
}
