import type { Registry } from "prom-client";
import { resolveTokenSecret, TokenService } from "../auth/index.ts";
import { CLIENT_DIST_DIR } from "../client/index.ts";
import {
  type Config,
  childLogger,
  connectSubscriber,
  type RedisClient,
  redisTargetFromConfig,
} from "../core/index.ts";
import { GatewayServer, gatewayLimitsFromConfig } from "../gateway/index.ts";
import {
  Checkout,
  type OrderStore,
  reportLimitsFromConfig,
  SandboxPaymentProvider,
} from "../orders/index.ts";
import type { SaleEngine } from "../sale-engine/index.ts";
import { type OpenShadowLane, openShadowLane } from "./shadow-lane.ts";

/**
 * One gateway node wired from the configuration: the launcher (`npm start`) and `livedrop
 * gateway` both start it this way. `close()` stops the server and its subscriber connection.
 */
export async function startGatewayNode(
  cfg: Config,
  deps: {
    engine: SaleEngine;
    store: OrderStore;
    redis: RedisClient;
    /** The process's shadow lane; without it (and LIVEDROP_SHADOW=on) the node opens its own. */
    shadow?: OpenShadowLane;
    /** Registries of the process's other parts, served on the gateway's /metrics too. */
    moreMetrics?: readonly Registry[];
  },
): Promise<{ server: GatewayServer; close(): Promise<void> }> {
  const log = childLogger("gateway");
  const ownShadow =
    cfg.LIVEDROP_SHADOW === "on" && !deps.shadow
      ? await openShadowLane(cfg, deps.redis, { pipeline: false })
      : undefined;
  const shadow = cfg.LIVEDROP_SHADOW === "on" ? (deps.shadow ?? ownShadow) : undefined;
  // Sharded pub/sub: on a cluster, one subscriber per master owning the room channels' slots.
  const subscriber = connectSubscriber(redisTargetFromConfig(cfg));
  subscriber.on("error", (err) => log.warn({ err: err.message }, "redis subscriber error"));
  const server = await GatewayServer.create({
    host: cfg.GATEWAY_HOST,
    port: cfg.GATEWAY_PORT,
    redis: deps.redis,
    store: deps.store,
    engine: deps.engine,
    // The sandbox is the only payment provider so far: no real money moves.
    checkout: new Checkout({
      engine: deps.engine,
      store: deps.store,
      // Its books live in Redis, so the payment reconciler can look up what a crashed checkout captured.
      payments: SandboxPaymentProvider.inRedis(deps.redis, cfg.LIVEDROP_KEY_PREFIX),
      redis: deps.redis,
      keyPrefix: cfg.LIVEDROP_KEY_PREFIX,
    }),
    tokens: await TokenService.create({ secret: await resolveTokenSecret(cfg) }),
    guestTokenTtlS: cfg.GATEWAY_GUEST_TOKEN_TTL_S,
    subscriber,
    keyPrefix: cfg.LIVEDROP_KEY_PREFIX,
    limits: gatewayLimitsFromConfig(cfg),
    reports: { limits: reportLimitsFromConfig(cfg), pass: true },
    reusePort: cfg.GATEWAY_REUSE_PORT,
    log,
    // Browsers reach the media tier here (signaling, events, HLS).
    clientDir: CLIENT_DIST_DIR,
    ...(deps.moreMetrics ? { moreMetrics: deps.moreMetrics } : {}),
    mediaUrl: cfg.MEDIA_PUBLIC_URL ?? `http://${cfg.MEDIA_HOST}:${cfg.MEDIA_PORT}`,
    ...(shadow ? { shadow } : {}),
  }).catch(async (err: unknown) => {
    // Nothing of a node that could not listen may keep the process alive.
    subscriber.disconnect();
    await ownShadow?.close();
    throw err;
  });
  return {
    server,
    async close() {
      await server.close();
      subscriber.disconnect();
      await ownShadow?.close();
    },
  };
}
