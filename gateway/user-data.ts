import { type RedisClient, validate } from "../core/index.ts";
import type { OrderStore } from "../orders/index.ts";
import {
  AUDIT_LOG_PAGE_MAX,
  type AuditEntry,
  type UserErase,
  type UserExport,
  userIdSchema,
} from "../protocol/index.ts";
import { eraseUserChat, userChatMessages } from "./rooms/chat-privacy.ts";

/** Where one lane keeps a user's personal data: its order store and its room logs in Redis. */
export interface UserDataLane {
  readonly store: OrderStore;
  readonly redis: RedisClient;
  /** The lane's key prefix (room logs). */
  readonly keyPrefix: string;
}

/** Every audit entry where `actor` acted, newest first, read page by page. */
async function auditOfActor(store: OrderStore, actor: string): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for (;;) {
    const before = out.at(-1)?.id;
    const page = await store.audit({
      actor,
      limit: AUDIT_LOG_PAGE_MAX,
      ...(before !== undefined ? { before } : {}),
    });
    out.push(...page);
    if (page.length < AUDIT_LOG_PAGE_MAX) return out;
  }
}

/**
 * Everything livedrop holds on one user in a lane: their orders and payment attempts, the chat
 * messages of theirs still in any room log, and the audit entries where they acted.
 */
export async function exportUser(lane: UserDataLane, userId: string, now = Date.now()): Promise<UserExport> {
  const id = validate(userIdSchema, userId, "user id");
  const [records, messages, audit] = await Promise.all([
    lane.store.userRecords(id),
    userChatMessages(lane.redis, lane.keyPrefix, id),
    auditOfActor(lane.store, id),
  ]);
  return {
    userId: id,
    exportedAt: now,
    orders: records.orders.map((o) => ({
      reservationId: o.reservationId,
      dropId: o.dropId,
      roomId: o.roomId,
      sku: o.sku,
      title: o.title,
      qty: o.qty,
      totalMinor: o.totalMinor,
      currency: o.currency,
      status: o.status,
      createdAt: o.createdAt,
      paidAt: o.paidAt,
    })),
    paymentAttempts: records.paymentAttempts.map((a) => ({
      id: a.id,
      reservationId: a.reservationId,
      status: a.status,
      amountMinor: a.amountMinor,
      currency: a.currency,
      createdAt: a.createdAt,
    })),
    chatMessages: messages.map((m) => ({ room: m.room, id: m.id, name: m.name, text: m.text, at: m.at })),
    audit,
  };
}

/**
 * Erases one user's personal data from a lane: orders and payment attempts keep the money record
 * with the buyer replaced by `pseudonym`; their chat messages become tombstones in every room log.
 * Audit rows are kept as they are (append-only; they record staff actions). Idempotent: a second
 * erase changes nothing and answers zeros.
 */
export async function eraseUser(lane: UserDataLane, userId: string, pseudonym: string): Promise<UserErase> {
  const id = validate(userIdSchema, userId, "user id");
  const rows = await lane.store.pseudonymiseUser(id, pseudonym);
  const chat = await eraseUserChat(lane.redis, lane.keyPrefix, id);
  return { userId: id, pseudonym, ...rows, ...chat };
}
