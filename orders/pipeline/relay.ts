import path from "node:path";
import type { Logger, RedisClient } from "../../core/index.ts";
import { parseEventMessage, type SaleEngine } from "../../sale-engine/index.ts";
import { jobsForEvent } from "./jobs.ts";
import type { OrderQueues } from "./queues.ts";

const GROUP = "order-relay";
/** An entry read by a relay that died is taken over after this long. */
const CLAIM_IDLE_MS = 15_000;

type StreamEntry = [id: string, fields: string[]];

/**
 * Drains every active drop's outbox stream into BullMQ: at-least-once. An entry is acknowledged and
 * deleted only after its jobs were added; job ids make re-adding after a crash a no-op. Uses a
 * consumer group, so several relays can run and a dead one's pending entries are claimed.
 */
export class OutboxRelay {
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly groupsMade = new Set<string>();
  private lastClaim = 0;
  relayed = 0;

  private constructor(
    private readonly redis: RedisClient,
    private readonly engine: SaleEngine,
    private readonly queues: OrderQueues,
    private readonly log: Logger,
    private readonly idleMs: number,
    private readonly consumer: string,
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
      options.redis,
      options.engine,
      options.queues,
      options.log,
      options.idleMs ?? 100,
      consumer,
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
      const stream = this.engine.keys.drop(dropId).outbox;
      await this.ensureGroup(stream);
      if (claim) moved += await this.relay(stream, await this.claimStale(stream));
      moved += await this.relay(stream, await this.readNew(stream));
    }
    return moved;
  }

  private async relay(stream: string, entries: StreamEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const now = Date.now();
    const orders = [];
    const holds = [];
    for (const [, fields] of entries) {
      const payload = fields[fields.indexOf("e") + 1];
      if (payload === undefined) continue;
      for (const event of parseEventMessage(payload)) {
        const jobs = jobsForEvent(event, now);
        orders.push(...jobs.orders);
        holds.push(...jobs.holds);
      }
    }
    if (orders.length > 0) await this.queues.orders.addBulk(orders);
    if (holds.length > 0) await this.queues.holds.addBulk(holds);
    const ids = entries.map(([id]) => id);
    await this.redis.xack(stream, GROUP, ...ids);
    await this.redis.xdel(stream, ...ids);
    this.relayed += entries.length;
    return entries.length;
  }

  private async readNew(stream: string): Promise<StreamEntry[]> {
    const reply = (await this.redis.xreadgroup(
      "GROUP",
      GROUP,
      this.consumer,
      "COUNT",
      500,
      "STREAMS",
      stream,
      ">",
    )) as [string, StreamEntry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  private async claimStale(stream: string): Promise<StreamEntry[]> {
    const reply = (await this.redis.xautoclaim(
      stream,
      GROUP,
      this.consumer,
      CLAIM_IDLE_MS,
      "0-0",
      "COUNT",
      500,
    )) as [string, (StreamEntry | null)[]];
    return (reply[1] ?? []).filter((e): e is StreamEntry => e !== null);
  }

  private async ensureGroup(stream: string): Promise<void> {
    if (this.groupsMade.has(stream)) return;
    try {
      await this.redis.xgroup("CREATE", stream, GROUP, "0", "MKSTREAM");
    } catch (err) {
      if (!String((err as Error).message).includes("BUSYGROUP")) throw err;
    }
    this.groupsMade.add(stream);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
