import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { Config } from "./config.ts";
import { ErrorCode, SetupError } from "./errors.ts";

export type RedisClient = Redis | Cluster;

export interface RedisTarget {
  /** `redis://host:port/db` of a standalone server. */
  readonly url?: string | undefined;
  /** Seed nodes of a Redis Cluster, `host:port` each. Takes precedence over `url`. */
  readonly clusterNodes?: readonly string[] | undefined;
}

const common: RedisOptions = {
  // Concurrent commands from one event-loop tick go out as one write: the flash-sale burst shape.
  enableAutoPipelining: true,
  // Keep retrying while Redis restarts; callers see an error only after this many reconnects.
  maxRetriesPerRequest: 50,
  retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
};

function clusterSeeds(hostPorts: readonly string[]): { host: string; port: number }[] {
  return hostPorts.map((hostPort) => {
    const [host = "127.0.0.1", port = "6379"] = hostPort.split(":");
    return { host, port: Number(port) };
  });
}

/** One connection to Redis or Redis Cluster, with the options livedrop relies on. */
export function connectRedis(target: RedisTarget, extra: RedisOptions = {}): RedisClient {
  if (target.clusterNodes && target.clusterNodes.length > 0) {
    return new Cluster(clusterSeeds(target.clusterNodes), {
      enableAutoPipelining: true,
      // The Cluster reads lazyConnect from its own options, not redisOptions: without this it
      // connects at once and the caller's connect() fails with "already connecting".
      lazyConnect: extra.lazyConnect ?? false,
      redisOptions: { ...common, ...extra },
      clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    });
  }
  if (!target.url) {
    throw new SetupError(
      ErrorCode.CONFIG_INVALID,
      "no Redis configured: set REDIS_URL or REDIS_CLUSTER_NODES",
    );
  }
  return new Redis(target.url, { ...common, ...extra });
}

/**
 * A connection for SSUBSCRIBE. On a cluster, ioredis then keeps one subscriber per master and
 * sends each shard channel's subscription to the master that owns its slot (sharded pub/sub);
 * one SSUBSCRIBE / SUNSUBSCRIBE call may name channels of one slot only.
 */
export function connectSubscriber(target: RedisTarget): RedisClient {
  if (target.clusterNodes && target.clusterNodes.length > 0) {
    return new Cluster(clusterSeeds(target.clusterNodes), {
      shardedSubscribers: true,
      redisOptions: common,
      clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    });
  }
  return connectRedis(target);
}

/**
 * Where this process finds Redis: the cluster seeds, else REDIS_URL, else the embedded server
 * that `npm start` runs on LIVEDROP_REDIS_PORT.
 */
export function redisTargetFromConfig(cfg: Config): RedisTarget & { readonly embedded: boolean } {
  if (cfg.REDIS_CLUSTER_NODES) return { clusterNodes: cfg.REDIS_CLUSTER_NODES.split(","), embedded: false };
  if (cfg.REDIS_URL) return { url: cfg.REDIS_URL, embedded: false };
  return { url: `redis://127.0.0.1:${cfg.LIVEDROP_REDIS_PORT}`, embedded: true };
}

export function describeTarget(target: RedisTarget): string {
  return target.clusterNodes?.length ? `cluster ${target.clusterNodes.join(",")}` : (target.url ?? "(none)");
}
