import path from "node:path";
import type { Logger, RedisClient } from "../../core/index.ts";
import type { OutboxConsumer, OutboxEntry, SaleEngine } from "../../sale-engine/index.ts";
import { endSpan, type Span, SpanAttr, SpanKind, startSpan, traceparentOf } from "../../telemetry/index.ts";
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
    // Only entries written with trace carriers open spans (tracing on in gateway and here).
    let spans: Span[] | undefined;
    for (const entry of entries) {
      if (!entry.ok) {
        this.log.error(
          { dropId, entry: entry.id, err: entry.error },
          "outbox entry does not decode; skipped",
        );
        continue;
      }
      for (const event of entry.events) {
        const span = entry.traces && relaySpan(entry.traces, event);
        if (span) {
          spans ??= [];
          spans.push(span);
        }
        const jobs = jobsForEvent(event, now, traceparentOf(span));
        orders.push(...jobs.orders);
        holds.push(...jobs.holds);
      }
    }
    try {
      if (orders.length > 0) await this.queues.orders.addBulk(orders);
      if (holds.length > 0) await this.queues.holds.addBulk(holds);
    } catch (err) {
      for (const span of spans ?? []) endSpan(span, "failed", err);
      throw err;
    }
    for (const span of spans ?? []) endSpan(span, "queued");
    await this.outbox.ack(
      dropId,
      entries.map((e) => e.id),
    );
    this.relayed += entries.length;
    return entries.length;
  }
}

/** The relay's span of a traced hold: child of its reserve call, carried in the outbox entry. */
function relaySpan(
  traces: Readonly<Record<string, string>>,
  event: Extract<OutboxEntry, { ok: true }>["events"][number],
): Span | undefined {
  const parent = event.type === "reservation.placed" ? traces[event.reservation] : undefined;
  if (parent === undefined) return undefined;
  const span = startSpan("outbox.relay", SpanKind.CONSUMER, parent);
  span?.setAttributes({
    [SpanAttr.drop]: event.drop,
    [SpanAttr.room]: event.room,
    [SpanAttr.reservation]: event.reservation,
  });
  return span;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
