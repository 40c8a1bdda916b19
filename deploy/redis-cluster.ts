import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { RedisServerProcess } from "./redis-server.ts";

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Parent directory; each node gets `node-<i>/` inside. */
  readonly dir: string;
  /** Master count. Default 3, the minimum Redis Cluster accepts. */
  readonly masters?: number;
  /** Replicas per master (`--cluster-replicas`); each is one more node. Default 0. */
  readonly replicas?: number;
  readonly appendfsync?: "always" | "everysec" | "no";
}

/** A local Redis Cluster of private redis-server processes, made with `redis-cli --cluster create`. */
export class RedisClusterProcess {
  private constructor(readonly nodes: readonly RedisServerProcess[]) {}

  static async start(options: RedisClusterOptions): Promise<RedisClusterProcess> {
    const replicas = options.replicas ?? 0;
    const count = (options.masters ?? 3) * (1 + replicas);
    const nodes: RedisServerProcess[] = [];
    try {
      for (let i = 0; i < count; i++) {
        nodes.push(
          // Port 0: a free port pair (node and bus), tried again if another process takes it first.
          await RedisServerProcess.start({
            port: 0,
            dir: path.join(options.dir, `node-${i}`),
            cluster: true,
            appendfsync: options.appendfsync ?? "everysec",
          }),
        );
      }
      const cluster = new RedisClusterProcess(nodes);
      await run("redis-cli", [
        "--cluster",
        "create",
        ...cluster.hostPorts,
        "--cluster-replicas",
        String(replicas),
        "--cluster-yes",
      ]);
      await cluster.waitUntilReady();
      return cluster;
    } catch (err) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw err;
    }
  }

  get hostPorts(): string[] {
    return this.nodes.map((n) => n.hostPort);
  }

  /** Every node reports cluster_state:ok and knows all slots. */
  async waitUntilReady(timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        this.nodes.map(async (n) => {
          const { stdout } = await run("redis-cli", [
            "-h",
            n.options.host,
            "-p",
            String(n.options.port),
            "cluster",
            "info",
          ]);
          return stdout.includes("cluster_state:ok") && stdout.includes("cluster_slots_assigned:16384");
        }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > until)
        throw new Error(`cluster ${this.hostPorts.join(",")} not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
