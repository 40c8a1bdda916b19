import { randomUUID } from "node:crypto";
import type { Role } from "../../auth/index.ts";
import type { RedisClient } from "../../core/index.ts";
import { RateLimiter } from "../../core/index.ts";
import {
  type ChatMessage,
  decodeRoomLogEntry,
  type ModerationAction,
  type ModerationNoticeAction,
  type RoomLogEntry,
  WireErrorCode,
} from "../../protocol/index.ts";
import { roomKeys } from "../keys.ts";
import type { RoomLog } from "../rooms/room-log.ts";

export interface ChatAuthor {
  readonly userId: string;
  readonly name: string;
  readonly role: Role;
  /** May moderate this room (moderator or host of it, or admin): spared rate limit and slow mode. */
  readonly privileged: boolean;
}

/** A chat refusal, with the wire code the sender gets. */
export class ChatRefusal extends Error {
  constructor(
    readonly code: (typeof WireErrorCode)[keyof typeof WireErrorCode],
    message: string,
  ) {
    super(message);
  }
}

/** Logged room entries of the chat (next to the drop events in the same room log). */
export type ChatEvent = Extract<RoomLogEntry, { type: "chat.message" | "chat.moderation" }>;

export type ModerationNotice = ModerationNoticeAction;

/**
 * A room's chat: posting (rate limit per user, slow mode, timeouts and bans, all enforced here
 * on the server), moderation, and recent history with tombstones. Messages and moderation
 * notices go into the room log, so every node delivers them and a joining client sees history.
 */
export class RoomChat {
  private readonly limiter: RateLimiter;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly roomLog: RoomLog,
    /** The moderation hash of a room expires after this long without a moderation, seconds. */
    private readonly idleTtlS: number,
    /** Messages per second per user and room on this node, and the burst allowed. */
    private readonly rate: { readonly rate: number; readonly burst: number },
  ) {
    this.limiter = new RateLimiter(rate.rate, rate.burst);
  }

  private modKey(room: string): string {
    return roomKeys(this.prefix, room).moderation;
  }

  async post(author: ChatAuthor, room: string, text: string, now = Date.now()): Promise<ChatMessage> {
    const privileged = author.privileged;
    const [banned, mutedUntil, slow] = await this.redis.hmget(
      this.modKey(room),
      `ban:${author.userId}`,
      `mute:${author.userId}`,
      "slow",
    );
    if (banned) throw new ChatRefusal(WireErrorCode.BANNED, "you are banned from this room's chat");
    if (mutedUntil && Number(mutedUntil) > now)
      throw new ChatRefusal(
        WireErrorCode.MUTED,
        `you are timed out until ${new Date(Number(mutedUntil)).toISOString()}`,
      );
    if (!privileged && !this.limiter.take(`${room}|${author.userId}`, 1, now)) {
      throw new ChatRefusal(WireErrorCode.RATE_LIMITED, `at most ${this.rate.rate} message(s) a second`);
    }
    const slowSeconds = Number(slow ?? 0);
    if (!privileged && slowSeconds > 0) {
      // One message per slow-mode interval per user, across every gateway node.
      const ok = await this.redis.set(
        roomKeys(this.prefix, room).slowTurn(author.userId),
        "1",
        "PX",
        slowSeconds * 1000,
        "NX",
      );
      if (ok !== "OK")
        throw new ChatRefusal(WireErrorCode.SLOW_MODE, `slow mode: one message every ${slowSeconds} s`);
    }
    const message: ChatMessage = {
      id: randomUUID(),
      room,
      userId: author.userId,
      name: author.name,
      role: author.role,
      text,
      at: now,
    };
    await this.roomLog.append(room, { type: "chat.message", message } satisfies ChatEvent);
    return message;
  }

  /** Applies a moderation action (the caller checked the moderator's rights) and logs the notice. */
  async moderate(
    by: string,
    room: string,
    action: ModerationAction,
    now = Date.now(),
  ): Promise<ModerationNotice> {
    const key = this.modKey(room);
    const notice: ModerationNotice =
      action.kind === "timeout" ? { ...action, until: now + action.seconds * 1000 } : action;
    switch (notice.kind) {
      case "timeout":
        await this.redis.hset(key, `mute:${notice.userId}`, notice.until);
        break;
      case "ban":
        await this.redis.hset(key, `ban:${notice.userId}`, now);
        break;
      case "unban":
        await this.redis.hdel(key, `ban:${notice.userId}`, `mute:${notice.userId}`);
        break;
      case "slowmode":
        await this.redis.hset(key, "slow", notice.seconds);
        break;
      case "delete":
        break; // the logged notice is the tombstone
    }
    // Bans and timeouts live as long as the room is in use, not forever.
    if (notice.kind !== "delete") await this.redis.expire(key, this.idleTtlS);
    await this.roomLog.append(room, {
      type: "chat.moderation",
      action: notice,
      by,
      at: now,
    } satisfies ChatEvent);
    return notice;
  }

  /** The room's recent messages from the log, oldest first; deleted ones as tombstones. */
  async recent(room: string, limit = 50): Promise<ChatMessage[]> {
    const entries = await this.redis.xrevrange(roomKeys(this.prefix, room).log, "+", "-", "COUNT", 500);
    const deleted = new Set<string>();
    const messages: ChatMessage[] = [];
    for (const [, fields] of entries) {
      const decoded = decodeRoomLogEntry(fields[1] ?? "null");
      const ev = decoded.ok ? decoded.value : undefined;
      if (ev?.type === "chat.moderation" && ev.action.kind === "delete") deleted.add(ev.action.messageId);
      if (ev?.type === "chat.message" && messages.length < limit) messages.push(ev.message);
    }
    return messages
      .reverse()
      .map((m) => (deleted.has(m.id) ? { ...m, text: "", deleted: true as const } : m));
  }
}
