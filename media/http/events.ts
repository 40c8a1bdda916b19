import type { ServerResponse } from "node:http";
import { CORS_HEADERS } from "./io.ts";

/** What viewers learn about a room, on connect and on every change. */
export interface RoomState {
  readonly live: boolean;
  readonly producers: readonly { id: string; kind: string }[];
  readonly hls: { playlistUrl: string } | null;
}

/** A comment line this often keeps proxies from closing an idle stream, milliseconds. */
const KEEPALIVE_MS = 15_000;

/**
 * Server-Sent Events per room (`event: state`): EventSource reconnects by itself, so a viewer
 * that loses the stream gets the current state again on reconnect. A state equal to the last one
 * sent to the room is not repeated.
 */
export class RoomEvents {
  private readonly subscribers = new Map<string, Set<ServerResponse>>();
  private readonly last = new Map<string, string>();
  private readonly keepalive: NodeJS.Timeout;

  constructor() {
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

  subscribe(room: string, res: ServerResponse, state: RoomState): void {
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
