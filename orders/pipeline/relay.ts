import path from "node:path";
import type { Logger, RedisClient } from "../../core/index.ts";
import type { OutboxConsumer, OutboxEntry, SaleEngine } from "../../sale-engine/index.ts";
import { jobsForEvent } from "./jobs.ts";
import type { OrderQueues } from "./queues.ts";

/** An entry read by a relay that died is taken over after this long. */
const CLAIM_IDLE_MS = 15_000;
/** Entries read from one drop's outbox per call. */
const READ_COUNT = 500;

/**
 * Drains every active drop's outbox into BullMQ: at-least-once. An entry is acknowledged only
 * after its jobs were added; job ids make re-adding after a crash a no-op. Reads through the
 * engine's outbox consumer group, so several relays can run and a dead one's pending entries are
 * claimed. An entry that does not decode is logged and acked: the reconciler still finds its
 * hold in the engine and creates the order.
 */
export class OutboxRelay {
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private lastClaim = 0;
  relayed = 0;

  private constructor(
    private readonly engine: SaleEngine,
    private readonly outbox: OutboxConsumer,
    private readonly queues: OrderQueues,
    private readonly log: Logger,
    private readonly idleMs: number,
  ) {}

  static start(options: {
    redis: RedisClient;
    engine: SaleEngine;
    queues: OrderQueues;
    log: Logger;
    idleMs?: number;
  }): OutboxRelay {
    const consumer = `${path.basename(process.argv[1] ?? "node")}-${process.pid}-${Date.now()}`;
    const relay = new OutboxRelay(
      options.engine,
      options.engine.outbox(consumer, options.redis),
      options.queues,
      options.log,
      options.idleMs ?? 100,
    );
    relay.loop = relay.run();
    return relay;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let moved = 0;
      try {
        moved = await this.pass();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, "outbox relay pass failed; retrying");
        await sleep(500);
      }
      if (moved === 0) await sleep(this.idleMs);
    }
  }

  /**
   * One pass over the outboxes of the active drops (a drop leaves that index only once its
   * outbox is empty, so no entry is skipped); returns how many entries it moved.
   */
  async pass(): Promise<number> {
    const claim = Date.now() - this.lastClaim > CLAIM_IDLE_MS / 3;
    if (claim) this.lastClaim = Date.now();
    let moved = 0;
    for (const dropId of await this.engine.activeDrops()) {
      if (this.stopped) break;
      if (claim)
        moved += await this.relay(dropId, await this.outbox.claimStale(dropId, CLAIM_IDLE_MS, READ_COUNT));
      moved += await this.relay(dropId, await this.outbox.read(dropId, READ_COUNT));
    }
    return moved;
  }

  private async relay(dropId: string, entries: OutboxEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const now = Date.now();
    const orders = [];
    const holds = [];
    for (const entry of entries) {
      if (!entry.ok) {
        this.log.error(
          { dropId, entry: entry.id, err: entry.error },
          "outbox entry does not decode; skipped",
        );
        continue;
      }
      for (const event of entry.events) {
        const jobs = jobsForEvent(event, now);
        orders.push(...jobs.orders);
        holds.push(...jobs.holds);
      }
    }
    if (orders.length > 0) await this.queues.orders.addBulk(orders);
    if (holds.length > 0) await this.queues.holds.addBulk(holds);
    await this.outbox.ack(
      dropId,
      entries.map((e) => e.id),
    );
    this.relayed += entries.length;
    return entries.length;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
