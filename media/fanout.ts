import type { Logger } from "../core/index.ts";
import { ROUTER_CODECS } from "./codecs.ts";
import type { types } from "./mediasoup.ts";
import type { WorkerPool } from "./workers.ts";

/** One router of a room: the origin (where producers live) or an edge fed by pipeToRouter. */
export interface RouterSlot {
  readonly router: types.Router;
  readonly worker: types.Worker;
  readonly origin: boolean;
  /** Receive transports placed here, with the consumers each holds. */
  readonly viewers: Map<string, { consumers: number }>;
  /** Producer ids piped here (edges). */
  readonly piped: Set<string>;
}

/**
 * The routers of one room and where viewers go. Producers live on the origin router. A new
 * receive transport goes to the first router whose consumer load is under the limit; when every
 * router is at the limit, a new edge router is opened on the least busy worker (another worker
 * than the origin's when there is one) and every producer is piped to it with pipeToRouter. A
 * viewer that has not consumed yet counts as one consumer per producer (what it will consume),
 * so a burst of joins does not pile onto one router. Idle edges are closed.
 */
export class RouterFanout {
  readonly slots: RouterSlot[] = [];
  private adding: Promise<RouterSlot> | undefined;

  private constructor(
    private readonly pool: WorkerPool,
    private readonly maxConsumersPerRouter: number,
    /** The room's producers now (they live on the origin). */
    private readonly producerIds: () => string[],
    private readonly log: Logger,
  ) {}

  static async create(
    pool: WorkerPool,
    maxConsumersPerRouter: number,
    producerIds: () => string[],
    log: Logger,
  ): Promise<RouterFanout> {
    const fanout = new RouterFanout(pool, maxConsumersPerRouter, producerIds, log);
    const worker = pool.pick();
    const router = await pool.createRouter(worker, ROUTER_CODECS);
    fanout.slots.push({ router, worker, origin: true, viewers: new Map(), piped: new Set() });
    return fanout;
  }

  get origin(): RouterSlot {
    return this.slots[0] as RouterSlot;
  }

  /** Consumers on a router, counting a viewer without consumers yet as `perViewer`. */
  load(slot: RouterSlot, perViewer: number): number {
    let n = 0;
    for (const v of slot.viewers.values()) n += Math.max(v.consumers, perViewer);
    return n;
  }

  /** The router a new receive transport should use; opens an edge when all are full. */
  async slotForViewer(): Promise<RouterSlot> {
    const perViewer = Math.max(1, this.producerIds().length);
    const free = this.slots.find((s) => this.load(s, perViewer) < this.maxConsumersPerRouter);
    if (free) return free;
    // One edge at a time: concurrent joins wait for it instead of opening several.
    if (!this.adding) {
      this.adding = this.addEdge().finally(() => {
        this.adding = undefined;
      });
    }
    return this.adding;
  }

  /** A new producer on the origin reaches every edge. */
  async pipeToEdges(): Promise<void> {
    for (const slot of this.slots) if (!slot.origin) await this.pipeMissing(slot);
  }

  /** A closed producer is no longer expected on the edges. */
  forget(producerId: string): void {
    for (const slot of this.slots) slot.piped.delete(producerId);
  }

  /** Closes an edge router once its last viewer left (its pipe transports close with it). */
  releaseIfIdle(slot: RouterSlot): void {
    if (slot.origin || slot.viewers.size > 0) return;
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    slot.router.close();
    this.log.debug({ router: slot.router.id }, "edge router closed (no viewers)");
  }

  close(): void {
    for (const slot of this.slots.splice(0).reverse()) slot.router.close();
  }

  private async addEdge(): Promise<RouterSlot> {
    const worker = this.pool.pick(this.origin.worker);
    const router = await this.pool.createRouter(worker, ROUTER_CODECS);
    const slot: RouterSlot = { router, worker, origin: false, viewers: new Map(), piped: new Set() };
    try {
      await this.pipeMissing(slot);
    } catch (err) {
      router.close();
      throw err;
    }
    this.slots.push(slot);
    // A producer that arrived while piping is caught here (pipeToEdges skipped the unlisted slot).
    await this.pipeMissing(slot);
    this.log.info(
      { edges: this.slots.length - 1, worker: worker.pid, producers: slot.piped.size },
      "room full on its routers: viewers now go to a new edge router (pipeToRouter)",
    );
    return slot;
  }

  /** Pipes every origin producer the edge lacks; a producer closed meanwhile is skipped. */
  private async pipeMissing(slot: RouterSlot): Promise<void> {
    for (const producerId of this.producerIds()) {
      if (slot.piped.has(producerId) || slot.router.closed) continue;
      slot.piped.add(producerId);
      try {
        await this.origin.router.pipeToRouter({ producerId, router: slot.router });
      } catch (err) {
        slot.piped.delete(producerId);
        if (this.producerIds().includes(producerId)) throw err;
      }
    }
  }
}
