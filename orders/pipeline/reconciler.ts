import { ErrorCode, isLivedropError, type Logger, type PeriodicPass, repeatPass } from "../../core/index.ts";
import type { ReservationRecord, SaleEngine } from "../../sale-engine/index.ts";
import type { Order, OrderStore } from "../store/index.ts";
import { createJob, type OrderJob, type PlannedJob, statusJob } from "./jobs.ts";
import type { PipelineMetrics } from "./metrics.ts";
import type { OrderQueues } from "./queues.ts";

const SCAN_LIMIT = 5_000;
/** Pending orders read per store query (the store's list limit). */
const PENDING_LIMIT = 500;

/**
 * The safety net behind the relay: periodically compares the sale engine with the order store
 * and enqueues what is missing. Holds without an order get a create job; pending orders whose
 * hold was settled in Redis get a status job. Job ids make it harmless to find the same gap
 * twice. It visits the active drops only (see SaleEngine.activeDrops), plus one store query for
 * pending orders of drops that left that index, so its idle cost does not grow with history.
 */
export class Reconciler {
  private loop: PeriodicPass | undefined;
  repaired = 0;

  constructor(
    private readonly engine: SaleEngine,
    private readonly store: OrderStore,
    private readonly queues: OrderQueues,
    private readonly log: Logger,
    /** The time the relay gets to turn a hold into an order before the reconciler steps in, ms. */
    private readonly graceMs: number,
    /**
     * True while the store was never opened in this process (the shadow lane's store opens on
     * first use): passes then skip the store-first checks instead of opening it to look. Holds
     * still reach the store (they open it), so no hold is left without its order.
     */
    private readonly storeUnopened: () => boolean = () => false,
    private readonly metrics?: PipelineMetrics,
  ) {}

  start(intervalMs: number): this {
    this.loop = repeatPass(
      intervalMs,
      async () => {
        const n = await this.pass();
        if (n > 0) this.log.info({ repaired: n }, "reconciler enqueued missing order work");
      },
      (err) => this.log.warn({ err: err.message }, "reconcile pass failed"),
    );
    return this;
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /** One comparison of every active drop; returns how many jobs it enqueued. */
  async pass(): Promise<number> {
    let enqueued = 0;
    const active = await this.engine.activeDrops();
    // Counted as each batch is queued: its jobs may be done before the pass is.
    const enqueue = async (jobs: PlannedJob<OrderJob>[]) => {
      if (jobs.length === 0) return;
      await this.queues.orders.addBulk(jobs);
      enqueued += jobs.length;
      this.repaired += jobs.length;
    };
    let missing = 0;
    for (const dropId of active) {
      const created = await this.missingOrders(dropId);
      missing += created.length;
      await enqueue([...created, ...(await this.staleStatuses(dropId))]);
    }
    await enqueue(await this.orphanStatuses(new Set(active)));
    if (this.metrics) {
      this.metrics.holdsWithoutOrder.set(missing);
      await this.checkInvariant(active, this.metrics);
      this.metrics.reconcilePasses.inc();
    }
    return enqueued;
  }

  /** available + held + sold = initial + restocked on every active drop; anything else is a bug to page on. */
  private async checkInvariant(active: readonly string[], m: PipelineMetrics): Promise<void> {
    let violations = 0;
    let oversold = 0;
    for (const dropId of active) {
      const s = await this.engine.status(dropId);
      const stock = s.initial + s.restocked;
      if (s.available + s.held + s.sold !== stock) {
        violations++;
        this.log.error(
          { dropId, stock, available: s.available, held: s.held, sold: s.sold },
          "stock invariant broken",
        );
      }
      oversold += Math.max(0, s.held + s.sold - stock);
    }
    m.invariantViolations.set(violations);
    m.oversoldUnits.set(oversold);
  }

  private async missingOrders(dropId: string): Promise<PlannedJob<OrderJob>[]> {
    const held = await this.engine.heldReservations(dropId, SCAN_LIMIT);
    if (held.length === 0) return [];
    const status = await this.engine.status(dropId);
    // Holds younger than the grace period are still on their way through the relay.
    const placedBefore = status.serverTime - this.graceMs;
    const settled = held.filter((h) => h.deadline - status.holdMs <= placedBefore);
    if (settled.length === 0) return [];
    const existing = await this.store.existing(settled.map((h) => h.reservationId));
    return settled
      .filter((h) => !existing.has(h.reservationId))
      .map((h) =>
        createJob({
          kind: "create",
          reservationId: h.reservationId,
          dropId,
          userId: h.userId,
          qty: h.qty,
          deadline: h.deadline,
          placedAt: h.deadline - status.holdMs,
        }),
      );
  }

  private async staleStatuses(dropId: string): Promise<PlannedJob<OrderJob>[]> {
    if (this.storeUnopened()) return [];
    return this.statusJobs(
      await this.store.list({ dropId, status: "pending_payment", limit: PENDING_LIMIT }),
    );
  }

  /**
   * Pending orders of drops that are no longer active: every hold of such a drop is settled, so
   * each is a status job that was lost or failed for good. Usually none; one store query.
   */
  private async orphanStatuses(active: Set<string>): Promise<PlannedJob<OrderJob>[]> {
    if (this.storeUnopened()) return [];
    const pending = await this.store.list({ status: "pending_payment", limit: PENDING_LIMIT });
    return this.statusJobs(pending.filter((o) => !active.has(o.dropId)));
  }

  /** A status job for each pending order whose hold is settled in the sale engine. */
  private async statusJobs(pending: Order[]): Promise<PlannedJob<OrderJob>[]> {
    const jobs: PlannedJob<OrderJob>[] = [];
    for (const order of pending) {
      let hold: ReservationRecord;
      try {
        hold = await this.engine.reservation(order.reservationId);
      } catch (err) {
        // An order this engine's key space does not know (another prefix's store): not ours.
        if (isLivedropError(err) && err.code === ErrorCode.RESERVATION_NOT_FOUND) continue;
        throw err;
      }
      if (hold.status === "held") continue;
      const to = hold.status === "confirmed" ? "paid" : hold.status === "expired" ? "expired" : "cancelled";
      jobs.push(
        statusJob({
          kind: "status",
          reservationId: order.reservationId,
          dropId: order.dropId,
          to,
          reason: "reconciled",
        }),
      );
    }
    return jobs;
  }
}
