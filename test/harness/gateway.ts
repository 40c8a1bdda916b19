import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Registry } from "prom-client";
import { afterAll, beforeAll } from "vitest";
import { TokenService } from "../../auth/index.ts";
import { childLogger, loadConfig } from "../../core/index.ts";
import { openShadowLane } from "../../deploy/index.ts";
import { GatewayServer, type GatewayServerOptions } from "../../gateway/index.ts";
import { type OrderStack, startOrderStack } from "./order-stack.ts";
import { type PrivatePostgres, startPrivatePostgres } from "./postgres.ts";
import { type PrivateRedis, startPrivateRedis } from "./redis.ts";

/** A private Redis and PostgreSQL, the order stack, and a gateway on a free port. */
export interface GatewayStack {
  readonly redis: PrivateRedis;
  readonly stack: OrderStack;
  readonly tokens: TokenService;
  readonly server: GatewayServer;
  /** The options the gateway was started with (start another node on the same stack). */
  readonly options: GatewayServerOptions;
  token(userId: string, role?: "viewer" | "moderator" | "host" | "admin", rooms?: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startGatewayStack(
  stackOptions: { shadow?: boolean; pipelineRegistry?: Registry } = {},
): Promise<GatewayStack> {
  let pg: PrivatePostgres | undefined;
  let redis: PrivateRedis | undefined;
  [redis, pg] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
  const client = redis.client();
  client.on("error", () => {});
  const subscriber = redis.client();
  subscriber.on("error", () => {});
  const stack = await startOrderStack({
    redisEnv: { REDIS_URL: redis.url },
    redisClient: client,
    databaseUrl: pg.url,
    ...(stackOptions.pipelineRegistry ? { registry: stackOptions.pipelineRegistry } : {}),
  });
  const tokens = await TokenService.create({ secret: "s".repeat(48) });
  // The shadow (load-test) lane, as `npm start` runs it: own keys, queues, order schema, pipeline.
  const shadowDir = mkdtempSync(path.join(os.tmpdir(), "livedrop-shadow-"));
  const shadow = stackOptions.shadow
    ? await openShadowLane(
        loadConfig({ ...stack.env, LIVEDROP_DATA_DIR: shadowDir, LOG_LEVEL: "silent" }),
        client,
        {
          pipeline: true,
        },
      )
    : undefined;
  const options: GatewayServerOptions = {
    host: "127.0.0.1",
    port: 0,
    redis: client,
    store: stack.store,
    engine: stack.engine,
    checkout: stack.checkout,
    tokens,
    guestTokenTtlS: 3600,
    subscriber,
    keyPrefix: stack.prefix,
    log: childLogger("test-gateway"),
    ...(shadow ? { shadow } : {}),
  };
  const server = await GatewayServer.create(options);
  return {
    redis,
    stack,
    tokens,
    server,
    options,
    token: (userId, role = "viewer", rooms = []) => tokens.issue({ userId, role, rooms, ttlSeconds: 3600 }),
    async stop() {
      await server.close();
      await shadow?.close();
      rmSync(shadowDir, { recursive: true, force: true });
      await stack.stop();
      await Promise.all([redis?.stop(), pg?.stop()]);
    },
  };
}

/**
 * One gateway stack for the whole test file: started before its tests (120 s, for a private
 * PostgreSQL on a loaded machine) and stopped after them. Returns a getter, since the stack only
 * exists once beforeAll has run.
 */
export function useGatewayStack(stackOptions: { shadow?: boolean } = {}): () => GatewayStack {
  let g: GatewayStack | undefined;
  beforeAll(async () => {
    g = await startGatewayStack(stackOptions);
  }, 120_000);
  afterAll(async () => {
    await g?.stop();
  });
  return () => {
    if (!g) throw new Error("the gateway stack is not started: use it inside a test or hook");
    return g;
  };
}
