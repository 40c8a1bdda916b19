import { z } from "zod";
import {
  buyQtySchema,
  dropIdSchema,
  idempotencyKeySchema,
  SALE_LIMITS,
  userIdSchema,
} from "../protocol/index.ts";

/**
 * Input validation for the sale engine: every id and string is bounded before Redis sees it. Ids,
 * drop fields and quantity bounds are protocol's (one definition for the wire and the engine); the
 * engine imports those from protocol/ and keeps here only what is its own.
 */
export const LIMITS = {
  ...SALE_LIMITS,
  /** A drop's per-user limit: at most one buy's worth. */
  maxPerUserLimit: SALE_LIMITS.maxBuyQty,
  /** Entries one `readEvents` call returns at most. */
  maxEventRead: 1_000,
} as const;

/** Engine defaults (SaleEngineOptions). */
export const DEFAULTS = {
  /** Entries kept in each drop's event log (approximate, MAXLEN ~); the gateway's room log keeps as many. */
  eventLogLength: 2_000,
  /** How long an active-index entry whose drop does not exist is kept, ms (a createDrop in flight). */
  activeGraceMs: 60_000,
  /** Replicas an acknowledgement waits for (LIVEDROP_ACK_REPLICAS): `auto` or 0-5. */
  ackReplicas: "auto",
  /** WAIT timeout, ms (LIVEDROP_ACK_TIMEOUT_MS). */
  ackTimeoutMs: 500,
  /** Age of the `auto` answer before it is checked again, ms (LIVEDROP_ACK_AUTO_CHECK_MS). */
  ackAutoCheckMs: 5_000,
  /** Interval of the sweeper's fair-window pass, ms: how late after T0 + W a window is allocated at most (plus the pass). */
  fairSweepMs: 100,
  /**
   * Most entries one fair window takes (a drop keeps the value it was created with); buys past
   * it are told to retry after the window. Bounds the allocation script's run time and the size
   * of the fair.allocated event, which lists every entry (measured on an idle machine: 5,000
   * entries allocate in about 110 ms with a 575 KB event; 10,000 in about 250 ms, 1.15 MB).
   */
  maxFairEntries: 5_000,
  /** Most waiting tickets one drop's waitlist takes (LIVEDROP_WAITLIST_MAX). */
  waitlistMax: 10_000,
} as const;

export const reserveRequestSchema = z.strictObject({
  dropId: dropIdSchema,
  userId: userIdSchema,
  qty: buyQtySchema,
  idempotencyKey: idempotencyKeySchema,
});

/** A fair-window entry id: SHA-1 hex of `user|idempotencyKey` (lua/reserve.lua). */
export const entryIdSchema = z.string().regex(/^[0-9a-f]{40}$/);

export const expireBatchSchema = z.number().int().min(1).max(10_000);
export const eventReadCountSchema = z.number().int().min(1).max(LIMITS.maxEventRead);
export const eventLogLengthSchema = z.number().int().min(1).max(10_000_000);
export const maxFairEntriesSchema = z.number().int().min(1).max(100_000);
export const waitlistMaxSchema = z.number().int().min(1).max(1_000_000);
export const activeGraceMsSchema = z
  .number()
  .int()
  .min(0)
  .max(24 * 60 * 60 * 1000);

export const ackReplicasSchema = z.union([z.literal("auto"), z.number().int().min(0).max(5)]);
export const ackTimeoutMsSchema = z.number().int().min(1).max(60_000);
export const ackAutoCheckMsSchema = z.number().int().min(100).max(3_600_000);

export type ReserveRequest = z.infer<typeof reserveRequestSchema>;
