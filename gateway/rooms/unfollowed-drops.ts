import { randomUUID } from "node:crypto";
import type { Logger, RedisClient } from "../../core/index.ts";
import type { SaleEngine } from "../../sale-engine/index.ts";
import { type RoomLog, roomKeys } from "./room-log.ts";
import { roomViewers } from "./viewer-counts.ts";

/** How often the lease holder looks at the active drops, ms. */
export const UNFOLLOWED_SCAN_MS = 1_000;
/** Life of the lease; renewed every scan, so a dead holder is replaced within this. */
const LEASE_MS = 5 * UNFOLLOWED_SCAN_MS;
/** Event log entries read per drop per scan. */
const READ_BATCH = 200;

/**
 * Logs the events of drops whose room no gateway follows. A gateway's hub logs the events of the
 * rooms it has viewers in, as they are published; a room with no viewer anywhere has no hub
 * listening, so its drop events would be missing from the room log when a viewer later resumes.
 * One gateway per lane (the holder of a Redis lease) reads those drops' durable event logs and
 * appends what is new; appends are deduplicated per drop version, so a hub and this relay (or two
 * relays during a lease hand-over) offering the same event log it once.
 */
export class UnfollowedDropLogger {
  private readonly nodeId = randomUUID();
  private readonly cursors = new Map<string, string>();
  private readonly roomOf = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private running = false;
  private closed = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly engine: SaleEngine,
    private readonly roomLog: RoomLog,
    private readonly keyPrefix: string,
    private readonly log: Logger,
    scanMs = UNFOLLOWED_SCAN_MS,
  ) {
    this.timer = setInterval(() => void this.tick(), scanMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    try {
      if (await this.holdLease()) await this.scan();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "logging unfollowed drops failed");
    } finally {
      this.running = false;
    }
  }

  /** Takes or renews the lane's lease; false while another node holds it. */
  private async holdLease(): Promise<boolean> {
    const key = `${this.keyPrefix}:rooms:unfollowed-lease`;
    if ((await this.redis.set(key, this.nodeId, "PX", LEASE_MS, "NX")) === "OK") return true;
    if ((await this.redis.get(key)) !== this.nodeId) return false;
    await this.redis.pexpire(key, LEASE_MS);
    return true;
  }

  /** One pass over the active drops: append what is new of those in rooms nobody watches. */
  async scan(): Promise<void> {
    const active = await this.engine.activeDrops();
    const live = new Set(active);
    for (const id of this.cursors.keys()) if (!live.has(id)) this.cursors.delete(id);
    // Per room, once a scan: a room's drops share its answer.
    const watched = new Map<string, Promise<boolean>>();
    for (const dropId of active) {
      if (this.closed) return;
      const room = await this.room(dropId);
      if (room === undefined) continue;
      if (!watched.has(room))
        watched.set(
          room,
          roomViewers(this.redis, this.keyPrefix, room).then((n) => n > 0),
        );
      if (await watched.get(room)) {
        // A hub logs this room now; start again from the log's end when nobody watches it.
        this.cursors.delete(dropId);
        continue;
      }
      await this.catchUp(dropId, room);
    }
  }

  private async catchUp(dropId: string, room: string): Promise<void> {
    // A drop seen for the first time is read from its oldest kept entry; the versions the room
    // log already has are skipped here (one read) rather than offered to the append one by one.
    const known = this.cursors.get(dropId);
    const logged = known === undefined ? await this.loggedVersion(room, dropId) : 0;
    let cursor = known ?? "0";
    for (;;) {
      const entries = await this.engine.readEvents(dropId, cursor, READ_BATCH);
      for (const entry of entries) {
        for (const event of entry.events)
          if (event.v > logged) await this.roomLog.append(room, event, { dropId: event.drop, v: event.v });
        cursor = entry.id;
      }
      this.cursors.set(dropId, cursor);
      if (entries.length < READ_BATCH || this.closed) return;
    }
  }

  /** The last version of `dropId` the room log holds (0 when none), as room-append.lua keeps it. */
  private async loggedVersion(room: string, dropId: string): Promise<number> {
    return Number((await this.redis.hget(roomKeys(this.keyPrefix, room).meta, `v:${dropId}`)) ?? 0);
  }

  /** A drop's room (it never changes), or undefined when the drop is gone. */
  private async room(dropId: string): Promise<string | undefined> {
    const known = this.roomOf.get(dropId);
    if (known !== undefined) return known;
    try {
      const { roomId } = await this.engine.status(dropId);
      if (this.roomOf.size > 10_000) this.roomOf.clear();
      this.roomOf.set(dropId, roomId);
      return roomId;
    } catch {
      return undefined;
    }
  }
}
