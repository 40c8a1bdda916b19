import {
  type Config,
  childLogger,
  connectSubscriber,
  type RedisClient,
  redisTargetFromConfig,
} from "../core/index.ts";
import { presenceEligibility, type ShadowLane } from "../gateway/index.ts";
import { Checkout, orderStoreTarget, SandboxPaymentProvider, startOrderPipeline } from "../orders/index.ts";
import { SaleEngine } from "../sale-engine/index.ts";
import { lazyOrderStore } from "./lazy-order-store.ts";

/** The Redis namespace of shadow (load-test) traffic: every key, queue and channel apart. */
export function shadowKeyPrefix(keyPrefix: string): string {
  return `${keyPrefix}-shadow`;
}

/** The configuration seen by the shadow lane: the same servers, its own key prefix. */
export function shadowConfig(cfg: Config): Config {
  return { ...cfg, LIVEDROP_KEY_PREFIX: shadowKeyPrefix(cfg.LIVEDROP_KEY_PREFIX) };
}

export interface OpenShadowLane extends ShadowLane {
  /** Stops the lane's pipeline (if it runs one), store and subscriber; safe to call twice. */
  close(): Promise<void>;
}

/**
 * The shadow lane of one process: a sale engine under `<prefix>-shadow` on the shared Redis
 * connection, its own order store (own PostgreSQL schema or PGlite directory, opened on first
 * use), a checkout that can
 * only ever use the sandbox payment provider, and, with `pipeline`, its own order pipeline
 * (BullMQ queues `{<prefix>-shadow-orders}`).
 */
export async function openShadowLane(
  cfg: Config,
  redis: RedisClient,
  options: { pipeline: boolean },
): Promise<OpenShadowLane> {
  const lane = shadowConfig(cfg);
  const engine = await SaleEngine.create({
    redis,
    prefix: lane.LIVEDROP_KEY_PREFIX,
    ackConfig: cfg,
    eligibleAtDraw: presenceEligibility(redis, lane.LIVEDROP_KEY_PREFIX),
  });
  // Opened on first use: most runs never send shadow traffic (saves an embedded PGlite's memory).
  const store = lazyOrderStore(orderStoreTarget(cfg, "shadow"));
  const pipeline = options.pipeline
    ? await startOrderPipeline({ cfg: lane, engine, store, storeUnopened: () => !store.opened })
    : undefined;
  const subscriber = connectSubscriber(redisTargetFromConfig(cfg));
  const log = childLogger("shadow");
  subscriber.on("error", (err) => log.warn({ err: err.message }, "redis subscriber error"));
  let closed = false;
  return {
    engine,
    store,
    keyPrefix: lane.LIVEDROP_KEY_PREFIX,
    subscriber,
    // Never a real provider: shadow orders cannot move money, whatever the live lane uses.
    checkout: new Checkout({
      engine,
      store,
      payments: SandboxPaymentProvider.inRedis(redis, lane.LIVEDROP_KEY_PREFIX),
      redis,
      keyPrefix: lane.LIVEDROP_KEY_PREFIX,
    }),
    async close() {
      if (closed) return;
      closed = true;
      await pipeline?.stop();
      subscriber.disconnect();
      await store.close();
    },
  };
}
