import type { Logger, RedisClient } from "../../core/index.ts";
import { decodeRoomMessage, type RoomChannelMessage } from "../../protocol/index.ts";
import type { RoomLog } from "./room-log.ts";

/** One room with local viewers. */
interface LocalRoom {
  members: number;
  /** Settles once the room channel is subscribed; undefined after a failure. */
  ready: Promise<void> | undefined;
}

/**
 * This node's link between Redis and its local rooms. A room with local viewers is subscribed
 * once (sharded pub/sub on the room's channel) however many viewers it has here; what arrives is
 * decoded and handed to `deliver` for local fan-out. The node follows no drop: the lane's room
 * appender logs every drop event once, and the log's append publishes it on the room channel, so
 * a node costs Redis one subscription per room whatever the room's traffic.
 */
export class RoomHub {
  private readonly rooms = new Map<string, LocalRoom>();
  private readonly roomOfChannel = new Map<string, string>();
  private readonly users = new Map<string, number>();
  private readonly userOfChannel = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly subscriber: RedisClient,
    private readonly roomLog: RoomLog,
    private readonly deliver: (room: string, message: RoomChannelMessage) => void,
    private readonly log: Logger,
    /** The shard channel of a user's order updates, and where they go locally. */
    private readonly userChannel: (userId: string) => string,
    private readonly deliverToUser: (userId: string, payload: string) => void,
    /** A room's subscription is live again after the connection dropped: what it missed is in the log. */
    private readonly resubscribed: (room: string) => void,
  ) {
    subscriber.on("smessage", (channel: string, message: string) => this.onMessage(channel, message));
    subscriber.on("ready", () => this.onReady());
  }

  localViewers(room: string): number {
    return this.rooms.get(room)?.members ?? 0;
  }

  /** Local viewers per room with any. */
  localCounts(): Map<string, number> {
    return new Map([...this.rooms].map(([room, r]) => [room, r.members]));
  }

  /**
   * A local viewer entered `room`: subscribe on the first one. Every caller waits until the
   * room's subscription is live, so no snapshot is read before live events can arrive. A failed
   * subscription is tried again by the next viewer to enter.
   */
  enter(room: string): Promise<void> {
    let r = this.rooms.get(room);
    if (!r) {
      r = { members: 0, ready: undefined };
      this.rooms.set(room, r);
    }
    r.members++;
    if (r.ready) return r.ready;
    const entry = r;
    const channel = this.roomLog.channel(room);
    this.roomOfChannel.set(channel, room);
    const ready = this.subscriber.ssubscribe(channel).then(() => undefined);
    entry.ready = ready;
    ready.catch(() => {
      if (entry.ready === ready) entry.ready = undefined;
    });
    return ready;
  }

  /** A local viewer left: unsubscribe after the last one. */
  async leave(room: string): Promise<void> {
    const r = this.rooms.get(room);
    if (!r) return;
    r.members--;
    if (r.members > 0) return;
    this.rooms.delete(room);
    const channel = this.roomLog.channel(room);
    this.roomOfChannel.delete(channel);
    // Issued after any subscription of this room on the same connection, so it lands after it.
    await this.unsubscribe(channel);
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
    await this.unsubscribe(channel);
  }

  close(): void {
    this.closed = true;
  }

  /** A drain closes the connection under unsubscribes in flight: nothing is left to leave then. */
  private async unsubscribe(channel: string): Promise<void> {
    if (this.closed) return;
    await this.subscriber.sunsubscribe(channel).catch((err: unknown) => {
      if (!this.closed) throw err;
    });
  }

  /**
   * The connection is (again) ready. ioredis subscribes its channels again on its own; each room's
   * subscription is confirmed here before its sockets are brought up to date from the log, so
   * nothing published while the connection was down is missed.
   */
  private onReady(): void {
    for (const [room, r] of this.rooms) {
      if (!r.ready || this.closed) continue;
      this.subscriber.ssubscribe(this.roomLog.channel(room)).then(
        () => this.resubscribed(room),
        (err: unknown) => this.log.warn({ err: (err as Error).message, room }, "room subscription failed"),
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
    if (room === undefined) return; // another reader's channel on the same connection (drop events)
    const decoded = decodeRoomMessage(message);
    if (!decoded.ok) {
      this.log.warn({ err: decoded.error, room }, "bad room message");
      return;
    }
    this.deliver(room, decoded.value);
  }
}
