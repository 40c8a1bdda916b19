import type { ServerResponse } from "node:http";
import { MediaErrorCode, RejectedError } from "../../core/index.ts";
import type { MediaRoomState } from "../../protocol/index.ts";
import { CORS_HEADERS } from "./io.ts";

/** What viewers learn about a room, on connect and on every change (protocol's body). */
export type RoomState = MediaRoomState;

/** A comment line this often keeps proxies from closing an idle stream, milliseconds. */
const KEEPALIVE_MS = 15_000;

/**
 * Server-Sent Events per room (`event: state`): EventSource reconnects by itself, so a viewer
 * that loses the stream gets the current state again on reconnect. A state equal to the last one
 * sent to the room is not repeated. Any room id may be watched (a viewer waits for a room to go
 * live), so what bounds the streams is the number one user may hold open at once.
 */
export class RoomEvents {
  private readonly subscribers = new Map<string, Set<ServerResponse>>();
  private readonly last = new Map<string, string>();
  /** Open streams per user id; an entry leaves with the user's last stream. */
  private readonly perUser = new Map<string, number>();
  private readonly keepalive: NodeJS.Timeout;

  constructor(private readonly maxPerUser: number) {
    this.keepalive = setInterval(() => {
      for (const set of this.subscribers.values()) for (const res of set) res.write(": keepalive\n\n");
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  get count(): number {
    let n = 0;
    for (const set of this.subscribers.values()) n += set.size;
    return n;
  }

  /** Opens `user`'s stream of `room`, or throws MEDIA_EVENT_STREAM_LIMIT before answering. */
  subscribe(room: string, user: string, res: ServerResponse, state: RoomState): void {
    const held = this.perUser.get(user) ?? 0;
    if (held >= this.maxPerUser) {
      throw new RejectedError(
        MediaErrorCode.MEDIA_EVENT_STREAM_LIMIT,
        `you hold ${held} open event streams on this media node, the most allowed: close one first`,
      );
    }
    this.perUser.set(user, held + 1);
    res.writeHead(200, {
      ...CORS_HEADERS,
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.write("retry: 2000\n\n");
    const set = this.subscribers.get(room) ?? new Set<ServerResponse>();
    this.subscribers.set(room, set);
    set.add(res);
    res.write(frame(state));
    res.on("close", () => {
      const n = (this.perUser.get(user) ?? 1) - 1;
      if (n <= 0) this.perUser.delete(user);
      else this.perUser.set(user, n);
      set.delete(res);
      if (set.size === 0 && this.subscribers.get(room) === set) {
        this.subscribers.delete(room);
        if (!this.last.get(room)?.includes('"live":true')) this.last.delete(room);
      }
    });
  }

  publish(room: string, state: RoomState): void {
    const data = frame(state);
    if (this.last.get(room) === data) return;
    // Remembered for live rooms and watched rooms only, so the map does not grow with old rooms.
    if (state.live || this.subscribers.has(room)) this.last.set(room, data);
    else this.last.delete(room);
    for (const res of this.subscribers.get(room) ?? []) res.write(data);
  }

  close(): void {
    clearInterval(this.keepalive);
    for (const set of this.subscribers.values()) for (const res of set) res.end();
    this.subscribers.clear();
  }
}

function frame(state: RoomState): string {
  return `event: state\ndata: ${JSON.stringify(state)}\n\n`;
}
