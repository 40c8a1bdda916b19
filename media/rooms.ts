import { LivedropError, MediaErrorCode, RejectedError } from "../core/index.ts";
import { roomNotLive } from "./errors.ts";
import { Room, type RoomOptions } from "./room.ts";

/** How many rooms a node holds, and how long an unused one may stay. */
export interface RoomCaps {
  /** Rooms one host (user id) may hold open at once. */
  readonly perHost: number;
  /** Rooms the node holds at once, all hosts together. */
  readonly total: number;
  /** A room with no transport and no producer this long is closed, milliseconds. */
  readonly idleMs: number;
}

/** What every room of the registry is made with (the registry names them), plus the caps. */
export type RoomRegistryOptions = Omit<RoomOptions, "name" | "host"> & { readonly caps: RoomCaps };

/**
 * The rooms of this media node by name. Only a host action opens a room (and its router):
 * viewers reach live rooms only, and anything else answers MEDIA_ROOM_NOT_LIVE without
 * allocating, so made-up room ids cost nothing. A room opens once even under concurrent
 * requests, counts against its host's cap and the node's until it ends, and an ended room leaves
 * the map, so the next host action for the same name starts a fresh one (the host can go live
 * again). Rooms nobody used are swept.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  private readonly opening = new Map<string, { host: string; room: Promise<Room> }>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly o: RoomRegistryOptions) {
    this.sweeper = setInterval(() => this.sweep(o.caps.idleMs), Math.max(50, o.caps.idleMs / 2));
    this.sweeper.unref();
  }

  get(name: string): Room | undefined {
    return this.rooms.get(name);
  }

  all(): Room[] {
    return [...this.rooms.values()];
  }

  /** Rooms open or opening now (the node's cap counts both). */
  get size(): number {
    return this.rooms.size + this.opening.size;
  }

  /** The live room a viewer asks for, or MEDIA_ROOM_NOT_LIVE: a viewer never opens a room. */
  live(name: string): Room {
    const room = this.rooms.get(name);
    if (!room || room.isEnded || !room.live) throw roomNotLive(name);
    return room;
  }

  /**
   * The room for a host action (capabilities before going live, send transport, ingest): the
   * open one, or a new one when `host` is under its cap and the node under its own, else 429
   * MEDIA_ROOM_LIMIT. Joining a room that is already open takes no slot.
   */
  async open(name: string, host: string): Promise<Room> {
    const existing = this.rooms.get(name);
    if (existing && !existing.isEnded) return existing;
    const pending = this.opening.get(name);
    if (pending) return pending.room;
    this.admit(host);
    const { caps: _caps, ...made } = this.o;
    const created = Room.create({
      ...made,
      name,
      host,
      onEnded: (room, reason) => {
        if (this.rooms.get(room.name) === room) this.rooms.delete(room.name);
        this.o.onEnded(room, reason);
      },
    }).then(
      (room) => {
        this.opening.delete(name);
        if (this.closed) {
          room.end("media tier closing");
          throw new Error("media tier is closing");
        }
        // Its router closed while it opened (worker died): never registered, so nothing stays.
        if (room.isEnded)
          throw new LivedropError(MediaErrorCode.MEDIA_UNAVAILABLE, `room ${name} could not open; retry`);
        this.rooms.set(name, room);
        return room;
      },
      (err: unknown) => {
        this.opening.delete(name);
        throw err;
      },
    );
    this.opening.set(name, { host, room: created });
    return created;
  }

  /** Ends rooms nobody used for `idleMs` (a host fetched capabilities and never went live). */
  sweep(idleMs: number): void {
    const now = Date.now();
    for (const room of [...this.rooms.values()])
      if (room.idle && now - room.lastActivity > idleMs) room.end("idle");
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    for (const room of [...this.rooms.values()]) room.end("media tier closing");
  }

  /** Throws MEDIA_ROOM_LIMIT when a new room would pass the node's cap or the host's. */
  private admit(host: string): void {
    const total = this.size;
    if (total >= this.o.caps.total) {
      throw new RejectedError(
        MediaErrorCode.MEDIA_ROOM_LIMIT,
        `this media node holds ${total} rooms, the most allowed: try again later`,
      );
    }
    let held = 0;
    for (const room of this.rooms.values()) if (room.host === host) held++;
    for (const p of this.opening.values()) if (p.host === host) held++;
    if (held >= this.o.caps.perHost) {
      throw new RejectedError(
        MediaErrorCode.MEDIA_ROOM_LIMIT,
        `you hold ${held} rooms on this media node, the most allowed: stop one first`,
      );
    }
  }
}
