import type { Logger, RedisClient } from "../../core/index.ts";
import { parseEventMessage, type SaleEngine } from "../../sale-engine/index.ts";
import { NewDropWatch } from "./new-drop-watch.ts";
import type { RoomLog, RoomMessage } from "./room-log.ts";

/** One room with local viewers. */
interface LocalRoom {
  members: number;
  /** Settles once the room channel and the room's drops are subscribed; undefined after a failure. */
  ready: Promise<void> | undefined;
  /** Drops followed for this room: settles once the drop's channel is subscribed and logged. */
  readonly drops: Map<string, Promise<void>>;
  /** Drop channels subscribed (or being subscribed) for this room: what a leave unsubscribes. */
  readonly dropChannels: Set<string>;
}

/**
 * This node's link between Redis and its local rooms. A room with local viewers is subscribed
 * once (sharded pub/sub on the room's channel) however many viewers it has here; the node also
 * follows the room's drops and offers their events to the room log, which logs each once
 * across all nodes. What arrives on a room channel is handed to `deliver` for local fan-out.
 * New drops are noticed through one watch of the drop registry (NewDropWatch), so an idle room
 * costs Redis nothing between its join and its leave.
 */
export class RoomHub {
  private readonly rooms = new Map<string, LocalRoom>();
  private readonly roomOfChannel = new Map<string, string>();
  private readonly users = new Map<string, number>();
  private readonly userOfChannel = new Map<string, string>();
  private readonly watch: NewDropWatch;
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
    /** How often the drop registry is checked for new drops, milliseconds. */
    newDropCheckMs = 1_000,
  ) {
    subscriber.on("smessage", (channel: string, message: string) => this.onMessage(channel, message));
    this.watch = new NewDropWatch(engine, newDropCheckMs, {
      wanted: (room) => this.rooms.has(room),
      follow: (room, dropId) => this.followDrop(room, dropId),
      recheck: () => {
        for (const room of this.rooms.keys()) this.followDrops(room).catch((err) => this.warn(err, room));
      },
      warn: (err) => this.warn(err, "*"),
    });
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
      r = { members: 0, ready: undefined, drops: new Map(), dropChannels: new Set() };
      this.rooms.set(room, r);
    }
    r.members++;
    if (r.ready) return r.ready;
    const entry = r;
    const channel = this.roomLog.channel(room);
    this.roomOfChannel.set(channel, room);
    const ready = (async () => {
      // The registry watch is primed first, so a drop created after the room's drops were read
      // below is a new drop to the watch.
      await this.watch.primed();
      await this.subscriber.ssubscribe(channel);
      if (this.rooms.get(room) === entry) await this.followDrops(room);
    })();
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
    if (this.closed) return;
    // Issued after any subscription of this room on the same connection, so it lands after it.
    // One call per channel: on a cluster, one SUNSUBSCRIBE may only name channels of one slot.
    const channels = [channel, ...r.dropChannels];
    await Promise.all(channels.map((c) => this.subscriber.sunsubscribe(c)));
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
    this.watch.close();
  }

  /**
   * Follows every active drop of the room not followed yet. A retired drop (ended, nothing
   * pending) can never change again, so a room's long history costs a join nothing.
   */
  private async followDrops(room: string): Promise<void> {
    const ids = await this.engine.activeDropsInRoom(room);
    await Promise.all(ids.map((dropId) => this.followDrop(room, dropId)));
  }

  /** Subscribes to a drop of a local room and logs its current state once. */
  private followDrop(room: string, dropId: string): Promise<void> {
    const r = this.rooms.get(room);
    if (!r) return Promise.resolve(); // left meanwhile
    const following = r.drops.get(dropId);
    if (following) return following;
    // Recorded before subscribing: a leave from now on unsubscribes it too.
    const channel = this.engine.keys.drop(dropId).events;
    r.dropChannels.add(channel);
    const follow = (async () => {
      await this.subscriber.ssubscribe(channel);
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
    })();
    r.drops.set(dropId, follow);
    // A failed follow is tried again by the next join or registry check.
    follow.catch(() => {
      if (r.drops.get(dropId) === follow) r.drops.delete(dropId);
    });
    return follow;
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
