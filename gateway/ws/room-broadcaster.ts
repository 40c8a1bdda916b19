/** A burst ends when a room has been quiet this long, milliseconds. */
export const BROADCAST_QUIET_MS = 5;
/** A frame never waits longer than this, however long a burst lasts, milliseconds. */
export const BROADCAST_MAX_WAIT_MS = 40;

/**
 * Writes room frames in bursts. Frames queued until things go quiet (or for at most
 * BROADCAST_MAX_WAIT_MS) go out in one synchronous run of `publish` calls, which uWS writes to
 * each socket as one send: a flash sale's burst of drop and stock events costs each socket one
 * system call instead of one per frame (the idea behind Centrifugo's write delay). A lone event
 * waits only BROADCAST_QUIET_MS. Frames leave in the order they were queued, and `flush(room)`
 * lets a join or resume write what was queued before it subscribes a socket.
 */
export class RoomBroadcaster {
  private readonly queued = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;
  private firstQueuedAt = 0;

  constructor(
    private readonly publish: (room: string, payload: string) => void,
    /** Called after a room's frames went out, with their size in bytes (back-pressure checks). */
    private readonly afterFlush: (room: string, bytes: number) => void,
    private readonly quietMs = BROADCAST_QUIET_MS,
    private readonly maxWaitMs = BROADCAST_MAX_WAIT_MS,
  ) {}

  add(room: string, payload: string): void {
    const list = this.queued.get(room);
    if (list) list.push(payload);
    else this.queued.set(room, [payload]);
    const now = Date.now();
    if (this.timer === undefined) this.firstQueuedAt = now;
    else clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.quietMs, this.firstQueuedAt + this.maxWaitMs - now));
    this.timer = setTimeout(() => this.flushAll(), wait);
  }

  /** Writes what `room` has queued, now. */
  flush(room: string): void {
    const list = this.queued.get(room);
    if (!list) return;
    this.queued.delete(room);
    let bytes = 0;
    for (const payload of list) {
      this.publish(room, payload);
      bytes += Buffer.byteLength(payload);
    }
    this.afterFlush(room, bytes);
  }

  flushAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const room of [...this.queued.keys()]) this.flush(room);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queued.clear();
  }
}
