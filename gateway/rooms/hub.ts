import type { Logger, RedisClient } from "../../core/index.ts";
import { parseEventMessage, type SaleEngine } from "../../sale-engine/index.ts";
import type { RoomLog, RoomMessage } from "./room-log.ts";

/**
 * This node's link between Redis and its local rooms. A room with local viewers is subscribed
 * once (sharded pub/sub on the room's channel) however many viewers it has here; the node also
 * follows the room's drops and offers their events to the room log, which logs each once
 * across all nodes. What arrives on a room channel is handed to `deliver` for local fan-out.
 */
export class RoomHub {
  private readonly members = new Map<string, number>();
  private readonly followed = new Map<string, Set<string>>();
  private readonly roomOfChannel = new Map<string, string>();
  /** Per room with local viewers: settles once its channel subscription is live. */
  private readonly subscribed = new Map<string, Promise<void>>();
  private readonly users = new Map<string, number>();
  private readonly userOfChannel = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly subscriber: RedisClient,
    private readonly engine: SaleEngine,
    private readonly roomLog: RoomLog,
    private readonly deliver: (room: string, message: RoomMessage) => void,
    private readonly log: Logger,
    /** The shard channel of a user's order updates, and where they go locally. */
    private readonly userChannel: (userId: string) => string,
    private readonly deliverToUser: (userId: string, payload: string) => void,
  ) {
    subscriber.on("smessage", (channel: string, message: string) => this.onMessage(channel, message));
    // New drops of a followed room are picked up within a second.
    this.timer = setInterval(() => {
      for (const room of this.members.keys())
        this.followDrops(room).catch((err: unknown) => this.warn(err, room));
    }, 1_000);
  }

  localViewers(room: string): number {
    return this.members.get(room) ?? 0;
  }

  /** Local viewers per room with any. */
  localCounts(): Map<string, number> {
    return new Map(this.members);
  }

  /**
   * A local viewer entered `room`: subscribe on the first one. Every caller waits until the
   * room's subscription is live, so no snapshot is read before live events can arrive.
   */
  async enter(room: string): Promise<void> {
    const n = (this.members.get(room) ?? 0) + 1;
    this.members.set(room, n);
    if (n > 1) return this.subscribed.get(room);
    const channel = this.roomLog.channel(room);
    this.roomOfChannel.set(channel, room);
    const ready = (async () => {
      await this.subscriber.ssubscribe(channel);
      await this.followDrops(room);
    })();
    this.subscribed.set(room, ready);
    ready.catch(() => this.subscribed.delete(room));
    return ready;
  }

  /** A local viewer left: unsubscribe after the last one. */
  async leave(room: string): Promise<void> {
    const n = (this.members.get(room) ?? 0) - 1;
    if (n > 0) {
      this.members.set(room, n);
      return;
    }
    this.members.delete(room);
    this.subscribed.delete(room);
    const channels = [
      this.roomLog.channel(room),
      ...[...(this.followed.get(room) ?? [])].map((d) => this.engine.keys.drop(d).events),
    ];
    this.followed.delete(room);
    if (this.closed) return;
    // One call per channel: on a cluster, one SUNSUBSCRIBE may only name channels of one slot.
    await Promise.all(channels.map((channel) => this.subscriber.sunsubscribe(channel)));
  }

  /** A socket of `userId` opened here: follow the user's order updates (once per node). */
  async enterUser(userId: string): Promise<void> {
    const n = (this.users.get(userId) ?? 0) + 1;
    this.users.set(userId, n);
    if (n > 1) return;
    const channel = this.userChannel(userId);
    this.userOfChannel.set(channel, userId);
    await this.subscriber.ssubscribe(channel);
  }

  async leaveUser(userId: string): Promise<void> {
    const n = (this.users.get(userId) ?? 0) - 1;
    if (n > 0) {
      this.users.set(userId, n);
      return;
    }
    this.users.delete(userId);
    const channel = this.userChannel(userId);
    this.userOfChannel.delete(channel);
    if (!this.closed) await this.subscriber.sunsubscribe(channel);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  /** Subscribes to drops of the room not followed yet and logs their current state once. */
  private async followDrops(room: string): Promise<void> {
    const known = this.followed.get(room) ?? new Set<string>();
    this.followed.set(room, known);
    for (const dropId of await this.engine.dropsInRoom(room)) {
      if (known.has(dropId)) continue;
      known.add(dropId);
      await this.subscriber.ssubscribe(this.engine.keys.drop(dropId).events);
      // Whatever changed while nobody followed this drop, the log gets its state now.
      const s = await this.engine.status(dropId);
      await this.roomLog.append(
        room,
        {
          type: "drop.snapshot",
          drop: dropId,
          room,
          v: s.version,
          at: s.serverTime,
          state: s.state,
          available: s.available,
          held: s.held,
          sold: s.sold,
        },
        { dropId, v: s.version },
      );
    }
  }

  private onMessage(channel: string, message: string): void {
    const user = this.userOfChannel.get(channel);
    if (user !== undefined) {
      this.deliverToUser(user, message);
      return;
    }
    const room = this.roomOfChannel.get(channel);
    try {
      if (room !== undefined) {
        this.deliver(room, JSON.parse(message) as RoomMessage);
        return;
      }
      // A drop's channel: offer each event to its room's log (first node wins).
      for (const event of parseEventMessage(message)) {
        this.roomLog
          .append(event.room, event, { dropId: event.drop, v: event.v })
          .catch((err: unknown) => this.warn(err, event.room));
      }
    } catch (err) {
      this.warn(err, room ?? channel);
    }
  }

  private warn(err: unknown, room: string): void {
    this.log.warn({ err: (err as Error).message, room }, "room hub error");
  }
}
