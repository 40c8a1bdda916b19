import type { Cluster } from "ioredis";
import type { RedisClient } from "../../core/index.ts";
import { type ChatMessage, decodeRoomLogEntry } from "../../protocol/index.ts";
import { roomKeys } from "../keys.ts";
import { DEFAULT_GATEWAY_LIMITS } from "../limits.ts";
import { RoomLog } from "./room-log.ts";

/** Keys one SCAN call asks for, and entries one XRANGE call reads. */
const SCAN_COUNT = 500;
const READ_PAGE = 500;

/** Who a privacy erasure's delete notices name (the moderation notice's `by`). */
export const ERASURE_MODERATOR = "privacy erasure";

/** Escapes SCAN MATCH's glob characters in a literal part of a pattern. */
function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The room of a room log key `<prefix>:room:{<room>}:log`. */
function roomOfLogKey(prefix: string, key: string): string | undefined {
  const head = `${prefix}:room:{`;
  if (!key.startsWith(head) || !key.endsWith("}:log")) return undefined;
  return key.slice(head.length, -"}:log".length);
}

/** Every room with a log under `prefix`, over each primary of a cluster. */
export async function roomsWithLog(redis: RedisClient, prefix: string): Promise<string[]> {
  const match = `${globLiteral(prefix)}:room:{*}:log`;
  const nodes = "nodes" in redis ? (redis as Cluster).nodes("master") : [redis];
  const rooms = new Set<string>();
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", match, "COUNT", SCAN_COUNT, "TYPE", "stream");
      cursor = next;
      for (const key of keys) {
        const room = roomOfLogKey(prefix, key);
        if (room !== undefined) rooms.add(room);
      }
    } while (cursor !== "0");
  }
  return [...rooms].sort();
}

/** A room log entry that names the user: their message, a moderation of them, or their hold's event. */
interface Mention {
  readonly id: string;
  readonly kind: "message" | "moderation" | "reservation";
  readonly message?: ChatMessage;
}

async function mentions(
  redis: RedisClient,
  prefix: string,
  room: string,
  userId: string,
): Promise<Mention[]> {
  const log = roomKeys(prefix, room).log;
  const found: Mention[] = [];
  let after = "-";
  for (;;) {
    const page = await redis.xrange(log, after, "+", "COUNT", READ_PAGE);
    for (const [id, fields] of page) {
      const decoded = decodeRoomLogEntry(fields[1] ?? "null");
      if (!decoded.ok) continue;
      const ev = decoded.value;
      if (ev.type === "chat.message" && ev.message.userId === userId)
        found.push({ id, kind: "message", message: ev.message });
      else if (ev.type === "chat.moderation" && "userId" in ev.action && ev.action.userId === userId)
        found.push({ id, kind: "moderation" });
      else if (ev.type.startsWith("reservation.") && "user" in ev && ev.user === userId)
        found.push({ id, kind: "reservation" });
    }
    if (page.length < READ_PAGE) return found;
    after = `(${page.at(-1)?.[0]}`;
  }
}

/** The user's chat messages still in any room log of the lane, oldest first per room. */
export async function userChatMessages(
  redis: RedisClient,
  prefix: string,
  userId: string,
): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  for (const room of await roomsWithLog(redis, prefix))
    for (const m of await mentions(redis, prefix, room, userId)) if (m.message) out.push(m.message);
  return out;
}

export interface ChatErasure {
  readonly chatMessages: number;
  readonly moderationEntries: number;
  /** Their holds' events (the buyer's user id); later drop events still carry the stock figures. */
  readonly reservationEntries: number;
  readonly rooms: number;
}

/**
 * Erases a user from every room log of the lane: each of their messages is deleted from the
 * log (XDEL) and a `chat.moderation` delete notice is logged, so live clients and history show
 * a tombstone; moderation notices naming them and their holds' events are deleted; their
 * moderation fields (ban, mute, slow-mode turn) go. Idempotent: a second run finds nothing and
 * answers zeros.
 */
export async function eraseUserChat(
  redis: RedisClient,
  prefix: string,
  userId: string,
): Promise<ChatErasure> {
  let chatMessages = 0;
  let moderationEntries = 0;
  let reservationEntries = 0;
  let rooms = 0;
  for (const room of await roomsWithLog(redis, prefix)) {
    const k = roomKeys(prefix, room);
    const found = await mentions(redis, prefix, room, userId);
    const [, removedFields] = await Promise.all([
      redis.del(k.slowTurn(userId)),
      redis.hdel(k.moderation, `ban:${userId}`, `mute:${userId}`),
    ]);
    if (found.length === 0 && removedFields === 0) continue;
    rooms += 1;
    if (found.length > 0) await redis.xdel(k.log, ...found.map((m) => m.id));
    // The notice keeps the log's own expiry: appending renews it with the TTL given here.
    const pttl = await redis.pttl(k.log);
    const ttlS = pttl > 0 ? Math.max(1, Math.ceil(pttl / 1000)) : DEFAULT_GATEWAY_LIMITS.roomIdleTtlS;
    const roomLog = new RoomLog(redis, prefix, ttlS);
    for (const m of found) {
      if (m.kind === "moderation") moderationEntries += 1;
      if (m.kind === "reservation") reservationEntries += 1;
      if (!m.message) continue;
      chatMessages += 1;
      await roomLog.append(room, {
        type: "chat.moderation",
        action: { kind: "delete", messageId: m.message.id },
        by: ERASURE_MODERATOR,
        at: Date.now(),
      });
    }
  }
  return { chatMessages, moderationEntries, reservationEntries, rooms };
}
