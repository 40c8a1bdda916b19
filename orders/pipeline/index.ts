import type { Registry } from "prom-client";
import {
  type Config,
  childLogger,
  connectRedis,
  type RedisClient,
  redisTargetFromConfig,
} from "../../core/index.ts";
import {
  ACTIVE_REPAIR_MS,
  Auctions,
  type SaleEngine,
  startAuctionPass,
  startExpirySweeper,
} from "../../sale-engine/index.ts";
import { faultPointFromConfig, type PaymentProvider, SandboxPaymentProvider } from "../payments/index.ts";
import type { OrderStore } from "../store/index.ts";
import { createPipelineMetrics } from "./metrics.ts";
import { PaymentReconciler } from "./payment-reconciler.ts";
import { type OrderQueues, openQueues } from "./queues.ts";
import { Reconciler } from "./reconciler.ts";
import { OutboxRelay } from "./relay.ts";

export { orderChannels, QueueName, queuePrefix, roomOrderChannel, userOrderChannel } from "../keys.ts";
export { expireJobId, jobsForEvent, type OrderJob, statusJobId } from "./jobs.ts";
export { createPipelineMetrics, type PipelineMetrics } from "./metrics.ts";
export { type PaymentPass, PaymentReconciler, type PaymentReconcilerOptions } from "./payment-reconciler.ts";
export { type OrderUpdate, type OrderUpdateType, publishOrderUpdate } from "./publisher.ts";
export { defaultJobOptions, type OrderQueues, openQueues } from "./queues.ts";
export { Reconciler } from "./reconciler.ts";
export { OutboxRelay } from "./relay.ts";

export interface PipelineOptions {
  readonly cfg: Config;
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  /** Order worker concurrency. Default LIVEDROP_ORDER_CONCURRENCY. */
  readonly concurrency?: number;
  /** Reconciler interval, ms. Default LIVEDROP_RECONCILE_MS. */
  readonly reconcileMs?: number;
  /** How old a hold must be before the reconciler creates its missing order, ms. Default LIVEDROP_RECONCILE_GRACE_MS. */
  readonly reconcileGraceMs?: number;
  /**
   * The payment provider the payment reconciler looks captures up at and refunds through.
   * Default: the sandbox with its books in this Redis (`<prefix>:sandbox:`).
   */
  readonly payments?: PaymentProvider;
  /** True while `store` was never opened (a store that opens on first use); see Reconciler. */
  readonly storeUnopened?: () => boolean;
  /** Where the pipeline's metrics register (orders/pipeline/metrics.ts); absent: not measured. */
  readonly registry?: Registry;
}

export interface RunningPipeline {
  readonly queues: OrderQueues;
  readonly relay: OutboxRelay;
  readonly reconciler: Reconciler;
  readonly paymentReconciler: PaymentReconciler;
  /** Stops relay, reconciler and workers (finishing jobs in progress); safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The order pipeline of one process: outbox relay → BullMQ `orders` → order worker → store;
 * delayed `holds` jobs expire holds at their deadline, with a periodic sweep as safety net;
 * the reconciler repairs any gap; the payment reconciler finishes payments a crash interrupted. Every
 * part is safe to run in several processes at once.
 */
export async function startOrderPipeline(o: PipelineOptions): Promise<RunningPipeline> {
  const target = redisTargetFromConfig(o.cfg);
  // BullMQ needs connections that wait through a Redis restart instead of failing commands.
  const bull: RedisClient = connectRedis(target, { maxRetriesPerRequest: null, enableAutoPipelining: false });
  const relayRedis = connectRedis(target);
  const log = childLogger("orders");
  for (const c of [bull, relayRedis])
    c.on("error", (err) => log.debug({ err: err.message }, "redis connection error"));
  const prefix = o.cfg.LIVEDROP_KEY_PREFIX;
  const queues = await openQueues(bull, prefix);
  // The consumers load BullMQ's worker code: only a process that runs the pipeline pays for it.
  const [{ OrderWorker }, { HoldExpirer }] = await Promise.all([
    import("./order-worker.ts"),
    import("./hold-expirer.ts"),
  ]);
  const metrics = o.registry ? createPipelineMetrics(o.registry) : undefined;
  metrics?.watchQueues(queues);
  const worker = new OrderWorker({
    connection: bull,
    engine: o.engine,
    store: o.store,
    keyPrefix: prefix,
    log,
    concurrency: o.concurrency ?? o.cfg.LIVEDROP_ORDER_CONCURRENCY,
    ...(metrics ? { metrics } : {}),
  });
  const expirer = new HoldExpirer(bull, o.engine, prefix, log);
  const relay = OutboxRelay.start({ redis: relayRedis, engine: o.engine, queues, log });
  // The safety net behind the delayed hold jobs: every drop's due holds, every interval; and
  // the fair pass, which draws the fair windows and raffles whose close has come.
  const sweeper = startExpirySweeper(
    o.engine,
    o.cfg.LIVEDROP_EXPIRE_SWEEP_MS,
    childLogger("expiry"),
    ACTIVE_REPAIR_MS,
    o.cfg.LIVEDROP_FAIR_PASS_MS,
  );
  // Auctions whose end has passed: the winner's hold, placed within about one interval.
  const auctionPass = startAuctionPass(
    await Auctions.create({ engine: o.engine, config: o.cfg }),
    childLogger("auctions"),
    o.cfg.LIVEDROP_AUCTION_PASS_MS,
  );
  const reconciler = new Reconciler(
    o.engine,
    o.store,
    queues,
    log,
    o.reconcileGraceMs ?? o.cfg.LIVEDROP_RECONCILE_GRACE_MS,
    o.storeUnopened,
    metrics,
  ).start(o.reconcileMs ?? o.cfg.LIVEDROP_RECONCILE_MS);
  const paymentReconciler = new PaymentReconciler(
    {
      engine: o.engine,
      store: o.store,
      payments: o.payments ?? SandboxPaymentProvider.inRedis(relayRedis, prefix),
      redis: relayRedis,
      keyPrefix: prefix,
      ...(faultPointFromConfig(o.cfg) ? { faultPoint: faultPointFromConfig(o.cfg) } : {}),
    },
    {
      stuckMs: o.cfg.LIVEDROP_PAYMENT_STUCK_MS,
      batch: o.cfg.LIVEDROP_PAYMENT_RECONCILE_BATCH,
      ...(o.storeUnopened ? { storeUnopened: o.storeUnopened } : {}),
    },
    childLogger("payments"),
  ).start(o.cfg.LIVEDROP_PAYMENT_RECONCILE_MS);
  let stopped = false;
  return {
    queues,
    relay,
    reconciler,
    paymentReconciler,
    async stop() {
      if (stopped) return;
      stopped = true;
      await relay.stop();
      await reconciler.stop();
      await paymentReconciler.stop();
      await sweeper.stop();
      await auctionPass.stop();
      await Promise.all([worker.close(), expirer.close()]);
      await queues.close();
      bull.disconnect();
      relayRedis.disconnect();
    },
  };
}
