import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Registry } from "prom-client";
import { loadConfig, type RedisClient } from "../../core/index.ts";
import {
  Checkout,
  OrderStore,
  type RunningPipeline,
  SandboxPaymentProvider,
  type StoreTarget,
  startOrderPipeline,
} from "../../orders/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { uniquePrefix } from "./redis.ts";

/** The sale engine, order store, running order pipeline and checkout of one test file. */
export interface OrderStack {
  readonly prefix: string;
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  readonly pipeline: RunningPipeline;
  readonly checkout: Checkout;
  /** The environment a `livedrop` child process needs to join this stack. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export interface OrderStackOptions {
  /** Where Redis is: `REDIS_URL` or `REDIS_CLUSTER_NODES`. */
  readonly redisEnv: Record<string, string>;
  /** A client of that Redis for the engine. */
  readonly redisClient: RedisClient;
  /** PostgreSQL URL; omitted: PGlite in a temporary folder. */
  readonly databaseUrl?: string;
  readonly reconcileMs?: number;
  /** Sandbox payment timeout, ms. */
  readonly paymentTimeoutMs?: number;
  /** Where the pipeline registers its metrics (orders/pipeline/metrics.ts). */
  readonly registry?: Registry;
}

export async function startOrderStack(o: OrderStackOptions): Promise<OrderStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "livedrop-stack-"));
  const prefix = uniquePrefix("orders");
  const env = {
    ...o.redisEnv,
    ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}),
    LIVEDROP_KEY_PREFIX: prefix,
    LOG_LEVEL: "warn",
  };
  const target: StoreTarget = o.databaseUrl
    ? { kind: "pg", url: o.databaseUrl }
    : { kind: "pglite", dataDir: path.join(dataDir, "orders") };
  const engine = await SaleEngine.create({ redis: o.redisClient, prefix });
  const store = await OrderStore.open(target);
  const cfg = loadConfig({ ...env, LIVEDROP_DATA_DIR: dataDir, LOG_LEVEL: "silent" });
  const pipeline = await startOrderPipeline({
    cfg,
    engine,
    store,
    reconcileMs: o.reconcileMs ?? 1_000,
    ...(o.registry ? { registry: o.registry } : {}),
  });
  const checkout = new Checkout({
    engine,
    store,
    payments: new SandboxPaymentProvider(o.paymentTimeoutMs ?? 300),
    redis: engine.connection,
    keyPrefix: prefix,
  });
  return {
    prefix,
    engine,
    store,
    pipeline,
    checkout,
    env,
    async stop() {
      await pipeline.stop();
      await store.close();
      await engine.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
