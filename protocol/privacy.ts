import { z } from "zod";
import { epochMsSchema, roleSchema } from "./fields.ts";
import { userIdSchema } from "./ids.ts";

/**
 * The audit log and one user's personal data over HTTP: GET /api/v1/admin/audit, GET
 * /api/v1/admin/users/:userId/export and POST /api/v1/admin/users/:userId/erase. Queries are
 * strict; responses are not (a client must accept fields added later).
 */

/** Entries one audit page lists at most, and by default. */
export const AUDIT_LOG_PAGE_MAX = 500;
export const AUDIT_LOG_PAGE_DEFAULT = 100;

/** Who acted: a user id with its role, or `cli:<os user>` with role `cli`. */
export const auditActorRoleSchema = z.union([roleSchema, z.literal("cli")]);
export const auditLaneSchema = z.enum(["live", "shadow"]);
/** `ok`, or the code the action was refused or failed with. */
export const auditOutcomeSchema = z.string().regex(/^[A-Za-z0-9_]{1,64}$/, "ok or an error code");
/** A dotted action name: `drop.launch`, `chat.moderate`, `order.refund`, `admin.shadow.set`. */
export const auditActionSchema = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "dotted action name");
/** What was acted on: a drop, room, order or user id (free text of ids, bounded). */
export const auditTargetSchema = z.string().min(1).max(200);
export const auditActorSchema = z.string().min(1).max(200);

/** One row of the append-only audit log. */
export const auditEntrySchema = z.object({
  id: z.number().int().min(1),
  at: epochMsSchema,
  actor: auditActorSchema,
  actorRole: auditActorRoleSchema,
  lane: auditLaneSchema,
  action: auditActionSchema,
  target: auditTargetSchema.nullable(),
  details: z.record(z.string(), z.unknown()),
  outcome: auditOutcomeSchema,
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/**
 * `?actor=&action=&target=&since=&before=&limit=` of GET /api/v1/admin/audit: newest first;
 * `since` is ms since the epoch, `before` the `next` of the previous page.
 */
export const auditLogQuerySchema = z.strictObject({
  actor: auditActorSchema.optional(),
  action: auditActionSchema.optional(),
  target: auditTargetSchema.optional(),
  since: z.coerce.number().int().min(0).optional(),
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(AUDIT_LOG_PAGE_MAX).default(AUDIT_LOG_PAGE_DEFAULT),
});
export type AuditLogQuery = z.infer<typeof auditLogQuerySchema>;

/** GET /api/v1/admin/audit: a page of entries and the `before` of the next page (null: none). */
export const auditLogPageSchema = z.object({
  entries: z.array(auditEntrySchema),
  next: z.number().int().nullable(),
});

/** The path's user id (the same rule as a token's subject). */
export const privacyUserIdSchema = userIdSchema;

const moneyRecord = {
  reservationId: z.string(),
  status: z.string(),
  currency: z.string(),
};

/** GET /api/v1/admin/users/:userId/export: every piece of personal data livedrop holds on a user. */
export const userExportSchema = z.object({
  userId: userIdSchema,
  exportedAt: epochMsSchema,
  orders: z.array(
    z.object({
      ...moneyRecord,
      dropId: z.string(),
      roomId: z.string(),
      sku: z.string(),
      title: z.string(),
      qty: z.number().int(),
      totalMinor: z.number().int(),
      createdAt: epochMsSchema,
      paidAt: epochMsSchema.nullable(),
    }),
  ),
  paymentAttempts: z.array(
    z.object({
      ...moneyRecord,
      id: z.number().int(),
      amountMinor: z.number().int(),
      createdAt: epochMsSchema,
    }),
  ),
  chatMessages: z.array(
    z.object({
      room: z.string(),
      id: z.string(),
      name: z.string(),
      text: z.string(),
      at: epochMsSchema,
    }),
  ),
  /** Audit entries where the user is the actor. */
  audit: z.array(auditEntrySchema),
  /** Their holds as the sale engine records them, in every drop it knows (active and retired). */
  saleHolds: z.array(
    z.object({
      dropId: z.string(),
      reservationId: z.string(),
      qty: z.number().int(),
      status: z.enum(["held", "confirmed", "released", "expired"]),
    }),
  ),
});
export type UserExport = z.infer<typeof userExportSchema>;

/**
 * POST /api/v1/admin/users/:userId/erase: what changed. Orders, payment attempts and the sale
 * engine's records keep the money record with the buyer replaced by `pseudonym`; chat messages
 * became tombstones. A second erase of the same user changes nothing and answers zeros (but
 * `saleEventsPending`, which reports what is left).
 */
export const userEraseSchema = z.object({
  userId: userIdSchema,
  pseudonym: z.string(),
  orders: z.number().int().min(0),
  paymentAttempts: z.number().int().min(0),
  chatMessages: z.number().int().min(0),
  moderationEntries: z.number().int().min(0),
  /** Room log events of their holds (they carry the buyer's user id). */
  reservationEntries: z.number().int().min(0),
  rooms: z.number().int().min(0),
  /** Sale engine reservation records whose buyer is now the pseudonym (per-user counts moved too). */
  saleRecords: z.number().int().min(0),
  /** Their unpaid holds, released by the erase (only their own buyer may pay a hold). */
  saleHoldsReleased: z.number().int().min(0),
  /** Entries naming them deleted from retired drops' event logs and outboxes. */
  saleEventEntries: z.number().int().min(0),
  /**
   * Entries naming them still in active drops' event logs and outboxes (still read there): they
   * roll off or are relayed; an erase after the drop retires deletes the rest. Not a change, so a
   * repeated erase answers it again.
   */
  saleEventsPending: z.number().int().min(0),
});
export type UserErase = z.infer<typeof userEraseSchema>;
