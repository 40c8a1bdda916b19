import { type RedisClient, validate } from "../core/index.ts";
import type { OrderStore } from "../orders/index.ts";
import {
  AUDIT_LOG_PAGE_MAX,
  type AuditEntry,
  type UserErase,
  type UserExport,
  userIdSchema,
} from "../protocol/index.ts";
import { eraseUserSaleState, keySpace, type SaleStateTarget, userSaleHolds } from "../sale-engine/index.ts";
import { eraseUserChat, userChatMessages } from "./rooms/chat-privacy.ts";

/**
 * Where one lane keeps a user's personal data: its order store, and in Redis its room logs and
 * the sale engine's drops (the engine's key prefix is the lane's).
 */
export interface UserDataLane {
  readonly store: OrderStore;
  readonly redis: RedisClient;
  /** The lane's key prefix (room logs, sale engine). */
  readonly keyPrefix: string;
}

function saleStateOf(lane: UserDataLane): SaleStateTarget {
  return { connection: lane.redis, keys: keySpace(lane.keyPrefix) };
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
 * messages of theirs still in any room log, the audit entries where they acted, and their holds
 * in the sale engine.
 */
export async function exportUser(lane: UserDataLane, userId: string, now = Date.now()): Promise<UserExport> {
  const id = validate(userIdSchema, userId, "user id");
  const [records, messages, audit, saleHolds] = await Promise.all([
    lane.store.userRecords(id),
    userChatMessages(lane.redis, lane.keyPrefix, id),
    auditOfActor(lane.store, id),
    userSaleHolds(saleStateOf(lane), id),
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
    saleHolds,
  };
}

/**
 * Erases one user's personal data from a lane: orders, payment attempts and the sale engine's
 * records keep the money record with the buyer replaced by `pseudonym` (their unpaid holds are
 * released); their chat messages become tombstones in every room log. Audit rows are kept as they
 * are (append-only; they record staff actions). Idempotent: a second erase changes nothing and
 * answers zeros (see saleEventsPending). The sale engine goes first: the release events it writes
 * already name the pseudonym, and the room logs are cleaned after it.
 */
export async function eraseUser(lane: UserDataLane, userId: string, pseudonym: string): Promise<UserErase> {
  const id = validate(userIdSchema, userId, "user id");
  const sale = await eraseUserSaleState(saleStateOf(lane), id, pseudonym);
  const rows = await lane.store.pseudonymiseUser(id, pseudonym);
  const chat = await eraseUserChat(lane.redis, lane.keyPrefix, id);
  return { userId: id, pseudonym, ...rows, ...chat, ...sale };
}
