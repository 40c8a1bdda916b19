import { Room, type RoomOptions } from "./room.ts";

/** What every room of the registry is made with; the registry names them. */
export type RoomRegistryOptions = Omit<RoomOptions, "name">;

/** Rooms that sat idle (no transport, no producer) this long are closed by the sweep. */
const IDLE_MS = 60_000;

/**
 * The rooms of this media node by name. A room (and its router) is created on first use, once
 * even under concurrent requests; an ended room leaves the map, so the next request for the same
 * name starts a fresh one (the host can go live again).
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  private readonly opening = new Map<string, Promise<Room>>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly o: RoomRegistryOptions) {
    this.sweeper = setInterval(() => this.sweep(IDLE_MS), IDLE_MS / 2);
    this.sweeper.unref();
  }

  get(name: string): Room | undefined {
    return this.rooms.get(name);
  }

  all(): Room[] {
    return [...this.rooms.values()];
  }

  async open(name: string): Promise<Room> {
    const existing = this.rooms.get(name);
    if (existing && !existing.isEnded) return existing;
    const pending = this.opening.get(name);
    if (pending) return pending;
    const created = Room.create({
      name,
      pool: this.o.pool,
      maxConsumersPerRouter: this.o.maxConsumersPerRouter,
      listenIp: this.o.listenIp,
      announcedIp: this.o.announcedIp,
      peerTimeoutMs: this.o.peerTimeoutMs,
      connectTimeoutMs: this.o.connectTimeoutMs,
      limits: this.o.limits,
      log: this.o.log,
      onChange: (room) => this.o.onChange(room),
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
        this.rooms.set(name, room);
        return room;
      },
      (err: unknown) => {
        this.opening.delete(name);
        throw err;
      },
    );
    this.opening.set(name, created);
    return created;
  }

  /** Ends rooms nobody used for `idleMs` (a viewer fetched capabilities and left). */
  sweep(idleMs: number): void {
    const now = Date.now();
    for (const room of this.rooms.values())
      if (room.idle && now - room.lastActivity > idleMs) room.end("idle");
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    for (const room of [...this.rooms.values()]) room.end("media tier closing");
  }
}
