import { type RedisClient, validate } from "../core/index.ts";
import { dropIdSchema } from "../protocol/index.ts";
import type { SaleEngine } from "./engine.ts";
import type { DropLogEntry } from "./event-log.ts";
import { parseEventMessage } from "./events.ts";
import type { SaleEvent } from "./types.ts";

/** What a follower is handed for each message a followed drop published: its events, oldest first. */
export type DropEventsHandler = (dropId: string, events: SaleEvent[]) => void;

/**
 * The sale engine's output for readers outside it: a drop's events live (its shard channel, on
 * a subscriber connection of the reader's) and durably (its event log, read by stream id). Live
 * delivery is at-most-once (a subscriber that reconnects misses what was published meanwhile);
 * the log has every event, each with the drop's gap-free version `v`, so a reader that sees a
 * version jump reads what it missed from the log. Readers never build the engine's key names.
 */
export class DropEventFeed {
  private readonly dropOfChannel = new Map<string, string>();
  private readonly listener = (channel: string, message: string) => this.onMessage(channel, message);

  constructor(
    private readonly engine: SaleEngine,
    /** A connection in subscriber mode (sharded pub/sub); it may carry other channels too. */
    private readonly subscriber: RedisClient,
    private readonly onEvents: DropEventsHandler,
    private readonly onError: (err: unknown, dropId: string) => void,
  ) {
    subscriber.on("smessage", this.listener);
  }

  /** Subscribes to the drop's events; settles once they arrive live. */
  async follow(dropId: string): Promise<void> {
    const channel = this.engine.keys.drop(validate(dropIdSchema, dropId, "drop id")).events;
    this.dropOfChannel.set(channel, dropId);
    await this.subscriber.ssubscribe(channel);
  }

  async unfollow(dropId: string): Promise<void> {
    const channel = this.engine.keys.drop(validate(dropIdSchema, dropId, "drop id")).events;
    if (!this.dropOfChannel.delete(channel)) return;
    await this.subscriber.sunsubscribe(channel);
  }

  /** The drops followed now. */
  followed(): string[] {
    return [...this.dropOfChannel.values()];
  }

  /** The drop's log entries after `afterId` (exclusive; `0`: the oldest kept), oldest first. */
  since(dropId: string, afterId: string, count: number): Promise<DropLogEntry[]> {
    return this.engine.readEvents(dropId, afterId, count);
  }

  /** The drop's newest log entry, or null when its log is empty: one read. */
  async latest(dropId: string): Promise<DropLogEntry | null> {
    const log = this.engine.keys.drop(validate(dropIdSchema, dropId, "drop id")).log;
    const [entry] = (await this.engine.connection.xrevrange(log, "+", "-", "COUNT", 1)) as [
      string,
      string[],
    ][];
    if (!entry) return null;
    const [id, fields] = entry;
    const payload = fields[fields.indexOf("e") + 1];
    return payload === undefined ? null : { id, events: parseEventMessage(payload) };
  }

  /** Stops handing events on; the caller unsubscribes or closes the connection. */
  close(): void {
    this.subscriber.off("smessage", this.listener);
    this.dropOfChannel.clear();
  }

  private onMessage(channel: string, message: string): void {
    const dropId = this.dropOfChannel.get(channel);
    if (dropId === undefined) return; // another reader's channel on the same connection
    let events: SaleEvent[];
    try {
      events = parseEventMessage(message);
    } catch (err) {
      this.onError(err, dropId);
      return;
    }
    this.onEvents(dropId, events);
  }
}
