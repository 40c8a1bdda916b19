import type { WebSocket } from "uWebSockets.js";
import { type ChatMessage, encodeServerFrame } from "../../protocol/index.ts";

/** Chat goes out about every 100 ms per room, as one batch frame. */
export const CHAT_BATCH_MS = 100;
/** A socket with more than this queued gets no chat (it still gets every state event). */
export const CHAT_DROP_BYTES = 64 * 1024;
/** Above this many local viewers a room is sampled: at most SAMPLE_PER_BATCH viewer messages a batch. */
export const LARGE_ROOM = 500;
export const SAMPLE_PER_BATCH = 20;

/**
 * Batches a room's chat and delivers it socket by socket, so a back-pressured socket is skipped
 * (chat is the one class of message a slow client may lose). In very large rooms viewers' messages
 * are sampled; host, moderator and admin messages always go out, and a sender already got its own
 * message back when it was accepted.
 */
export class ChatBatcher {
  private readonly waiting = new Map<string, ChatMessage[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  dropped = 0;

  constructor(private readonly socketsOf: (room: string) => Iterable<WebSocket<unknown>>) {}

  add(room: string, message: ChatMessage): void {
    const list = this.waiting.get(room) ?? [];
    list.push(message);
    this.waiting.set(room, list);
    if (!this.timers.has(room))
      this.timers.set(
        room,
        setTimeout(() => this.flush(room), CHAT_BATCH_MS),
      );
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private flush(room: string): void {
    this.timers.delete(room);
    const messages = this.waiting.get(room) ?? [];
    this.waiting.delete(room);
    if (messages.length === 0) return;
    const sockets = [...this.socketsOf(room)];
    const batch = sockets.length > LARGE_ROOM ? sample(messages) : messages;
    const frame = encodeServerFrame({ t: "chat", room, messages: batch });
    for (const ws of sockets) {
      if (ws.getBufferedAmount() > CHAT_DROP_BYTES) {
        this.dropped += 1;
        continue;
      }
      ws.cork(() => ws.send(frame));
    }
  }
}

function sample(messages: ChatMessage[]): ChatMessage[] {
  const privileged = messages.filter((m) => m.role !== "viewer");
  const viewers = messages.filter((m) => m.role === "viewer");
  for (let i = viewers.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [viewers[i], viewers[j]] = [viewers[j] as ChatMessage, viewers[i] as ChatMessage];
  }
  const kept = new Set([...privileged, ...viewers.slice(0, SAMPLE_PER_BATCH)]);
  return messages.filter((m) => kept.has(m));
}
