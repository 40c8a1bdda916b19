import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { connectRedis, type RedisClient } from "../../core/index.ts";
import { RedisClusterProcess, RedisServerProcess } from "../../deploy/index.ts";

/**
 * Private servers for tests: each helper starts its own process on a free loopback port in a
 * temporary directory and removes both on `stop()`. Tests never touch a server someone else
 * started.
 */
export interface PrivateRedis {
  readonly server: RedisServerProcess;
  readonly url: string;
  client(): RedisClient;
  stop(): Promise<void>;
}

export async function startPrivateRedis(
  options: { appendfsync?: "always" | "everysec" | "no" } = {},
): Promise<PrivateRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-redis-"));
  const server = await RedisServerProcess.start({
    port: 0, // picked by the server helper, which retries if another test takes it first
    dir,
    appendfsync: options.appendfsync ?? "always",
  });
  const clients: RedisClient[] = [];
  return {
    server,
    url: server.url,
    client() {
      const c = connectRedis({ url: server.url });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateRedisCluster {
  readonly cluster: RedisClusterProcess;
  client(): RedisClient;
  stop(): Promise<void>;
}

export async function startPrivateRedisCluster(): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-cluster-"));
  const cluster = await RedisClusterProcess.start({ dir });
  const clients: RedisClient[] = [];
  return {
    cluster,
    client() {
      const c = connectRedis({ clusterNodes: cluster.hostPorts });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A key namespace no other test shares. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${randomUUID().slice(0, 8)}`;
}
