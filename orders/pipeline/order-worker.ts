import { type Job, UnrecoverableError, Worker } from "bullmq";
import { ErrorCode, isLivedropError, type Logger, type RedisClient } from "../../core/index.ts";
import { Coupons, type DropStatus, type SaleEngine } from "../../sale-engine/index.ts";
import { endSpan, type Span, SpanAttr, SpanKind, startSpan, traceparentOf } from "../../telemetry/index.ts";
import { ensureOrder } from "../ensure-order.ts";
import { QueueName, queuePrefix } from "../keys.ts";
import { formatOf, unitPriceOf } from "../sale-terms.ts";
import type { Order, OrderStore } from "../store/index.ts";
import type { OrderJob } from "./jobs.ts";
import type { PipelineMetrics } from "./metrics.ts";
import { publishOrderUpdate } from "./publisher.ts";
import { workerTiming } from "./queues.ts";

export interface OrderWorkerOptions {
  readonly connection: RedisClient;
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  readonly keyPrefix: string;
  readonly log: Logger;
  readonly concurrency?: number;
  readonly metrics?: PipelineMetrics;
  /** Where a coupon applied to an order is redeemed or given back; default: the engine's Redis. */
  readonly coupons?: Coupons;
}

/**
 * Writes orders from `orders` jobs. Delivery is at least once (a worker may die mid-job and the
 * job runs again; a relay may add a job twice): every write is idempotent, keyed by reservation
 * id in the store, so a duplicate is a no-op.
 */
export class OrderWorker {
  private readonly worker: Worker<OrderJob>;
  private readonly drops = new Map<string, DropStatus>();
  private readonly coupons: Coupons;
  private closed = false;

  constructor(private readonly o: OrderWorkerOptions) {
    this.coupons = o.coupons ?? new Coupons({ redis: o.engine.connection, prefix: o.engine.keys.prefix });
    this.worker = new Worker<OrderJob>(QueueName.orders, (job) => this.process(job), {
      connection: o.connection,
      prefix: queuePrefix(o.keyPrefix),
      concurrency: o.concurrency ?? 32,
      ...workerTiming,
    });
    this.worker.on("failed", (job, err) => {
      o.metrics?.jobsFailed.inc();
      o.log.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, "order job failed");
    });
    this.worker.on("stalled", () => o.metrics?.jobsStalled.inc());
    this.worker.on("error", (err) => o.log.warn({ err: err.message }, "order worker error"));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.close();
  }

  private async process(job: Job<OrderJob>): Promise<string> {
    const data = job.data;
    if (data.kind === "create") {
      // A traced buy's job is a child of the relay's span: the job carries its context.
      const span =
        data.trace === undefined ? undefined : startSpan("order.job", SpanKind.CONSUMER, data.trace);
      try {
        const { created, order } = await this.create(data, span);
        endSpan(span, created ? "created" : "exists");
        return created ? `created ${order.reservationId}` : `exists ${order.reservationId}`;
      } catch (err) {
        endSpan(span, "failed", err);
        throw err;
      }
    }
    await this.ensureOrder(data.reservationId);
    const { changed, order } = await this.o.store
      .transition(data.reservationId, data.to, { reason: data.reason })
      .catch((err: unknown) => {
        // The order already moved on (a status job overtaken by a later one, e.g. paid then
        // refunded): retrying cannot change that, so the job fails once, kept for the audit.
        if (isLivedropError(err) && err.code === ErrorCode.ORDER_STATE_CONFLICT)
          throw new UnrecoverableError(err.message);
        throw err;
      });
    if (changed) await publishOrderUpdate(this.o.connection, this.o.keyPrefix, `order.${data.to}`, order);
    // Every paid, expired or released hold passes here, whoever settled it: the order's coupon
    // claim is redeemed, or given back to its buyer (idempotent, so a retried job is harmless).
    if (order.couponId !== null)
      await this.coupons.settle(order.couponId, order.reservationId, data.to === "paid" ? "paid" : "back");
    return changed ? `${data.to} ${order.reservationId}` : `already ${order.status}`;
  }

  /** Writes the order of a hold and tells the buyer; `span` is the job's span when traced. */
  private async create(
    data: Extract<OrderJob, { kind: "create" }>,
    span: Span | undefined,
  ): Promise<{ created: boolean; order: Order }> {
    // The job carries the hold; with the drop's cached product that is one insert, no reads.
    const drop = await this.drop(data.dropId);
    span?.setAttributes({
      [SpanAttr.drop]: data.dropId,
      [SpanAttr.room]: drop.roomId,
      [SpanAttr.reservation]: data.reservationId,
    });
    const insert = span && startSpan("order.insert", SpanKind.CLIENT, span);
    let result: { created: boolean; order: Order };
    try {
      result = await this.o.store.createOrder({
        reservationId: data.reservationId,
        dropId: data.dropId,
        roomId: drop.roomId,
        userId: data.userId,
        sku: drop.product.sku,
        title: drop.product.title,
        qty: data.qty,
        unitPriceMinor: unitPriceOf(data, drop),
        currency: drop.product.currency,
        holdDeadline: data.deadline,
        format: formatOf(drop),
      });
    } catch (err) {
      endSpan(insert, "failed", err);
      throw err;
    }
    endSpan(insert, result.created ? "created" : "exists");
    if (!result.created) return result;
    // Server-clock placedAt against this host's clock: the lag a buyer waits for an order.
    this.o.metrics?.orderLag.observe(Math.max(0, Date.now() - data.placedAt) / 1000);
    const publish = span && startSpan("order.publish", SpanKind.PRODUCER, span);
    try {
      const { connection, keyPrefix } = this.o;
      await publishOrderUpdate(connection, keyPrefix, "order.created", result.order, traceparentOf(publish));
    } catch (err) {
      endSpan(publish, "failed", err);
      throw err;
    }
    endSpan(publish, "published");
    return result;
  }

  private async ensureOrder(reservationId: string): Promise<{ created: boolean; order: Order }> {
    const result = await ensureOrder(this.o.engine, this.o.store, reservationId, (dropId) =>
      this.drop(dropId),
    );
    if (result.created)
      await publishOrderUpdate(this.o.connection, this.o.keyPrefix, "order.created", result.order);
    return result;
  }

  /** A drop's product and room never change after creation, so they are cached. */
  private async drop(dropId: string): Promise<DropStatus> {
    let drop = this.drops.get(dropId);
    if (!drop) {
      drop = await this.o.engine.status(dropId);
      if (this.drops.size > 10_000) this.drops.clear();
      this.drops.set(dropId, drop);
    }
    return drop;
  }
}
