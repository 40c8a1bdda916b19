import type { RedisClient } from "../core/index.ts";
import { decodeOutboxEntry, decodeOutboxTraces, type ReservationEvent } from "../protocol/index.ts";
import type { KeySpace } from "./keys.ts";

/** The consumer group the order relays share on every drop's outbox. */
export const OUTBOX_GROUP = "order-relay";

/** One outbox entry: its events, or why they could not be read (the entry is still acked). */
export type OutboxEntry =
  | {
      readonly id: string;
      readonly ok: true;
      readonly events: ReservationEvent[];
      /** Tracing on: the traceparent of each traced hold's reserve call, by reservation id. */
      readonly traces?: Readonly<Record<string, string>>;
    }
  | { readonly id: string; readonly ok: false; readonly error: string };

type RawEntry = [id: string, fields: string[]];

/**
 * The sale engine's output to the order pipeline: each drop's outbox stream, read through a
 * consumer group (at-least-once: an entry stays pending until acked, and a dead consumer's
 * pending entries are claimed by another). Readers never build the engine's key names.
 */
export class OutboxConsumer {
  private readonly groupsMade = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    /** This consumer's name in the group: unique per process. */
    readonly consumer: string,
    readonly group: string = OUTBOX_GROUP,
  ) {}

  /** Entries of the drop's outbox no consumer of the group has read yet, oldest first. */
  async read(dropId: string, count: number): Promise<OutboxEntry[]> {
    const stream = await this.stream(dropId);
    const reply = (await this.redis.xreadgroup(
      "GROUP",
      this.group,
      this.consumer,
      "COUNT",
      count,
      "STREAMS",
      stream,
      ">",
    )) as [string, RawEntry[]][] | null;
    return decodeEntries(reply?.[0]?.[1] ?? []);
  }

  /** Takes over entries another consumer read but did not ack for `minIdleMs` (it died). */
  async claimStale(dropId: string, minIdleMs: number, count: number): Promise<OutboxEntry[]> {
    const stream = await this.stream(dropId);
    const reply = (await this.redis.xautoclaim(
      stream,
      this.group,
      this.consumer,
      minIdleMs,
      "0-0",
      "COUNT",
      count,
    )) as [string, (RawEntry | null)[]];
    return decodeEntries((reply[1] ?? []).filter((e): e is RawEntry => e !== null));
  }

  /** Acknowledges and deletes entries: the drop's outbox empties as its work is handed on. */
  async ack(dropId: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const stream = await this.stream(dropId);
    await this.redis.xack(stream, this.group, ...ids);
    await this.redis.xdel(stream, ...ids);
  }

  private async stream(dropId: string): Promise<string> {
    const stream = this.keys.drop(dropId).outbox;
    if (this.groupsMade.has(stream)) return stream;
    try {
      await this.redis.xgroup("CREATE", stream, this.group, "0", "MKSTREAM");
    } catch (err) {
      if (!String((err as Error).message).includes("BUSYGROUP")) throw err;
    }
    this.groupsMade.add(stream);
    return stream;
  }
}

function decodeEntries(raw: RawEntry[]): OutboxEntry[] {
  return raw.map(([id, fields]) => {
    const decoded = decodeOutboxEntry(fields);
    if (!decoded.ok) return { id, ok: false, error: decoded.error };
    // An entry written without tracing has two fields: no trace lookup, no extra key.
    const traces = fields.length > 2 ? decodeOutboxTraces(fields) : undefined;
    return traces ? { id, ok: true, events: decoded.value, traces } : { id, ok: true, events: decoded.value };
  });
}
