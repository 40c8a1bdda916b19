import { z } from "zod";

/** Input validation for the sale engine: every id and string is bounded before Redis sees it. */
export const LIMITS = {
  maxStock: 10_000_000,
  /** Ceiling for initial + restocked of one drop. */
  maxTotalStock: 1_000_000_000,
  maxPerUserLimit: 1_000,
  minHoldMs: 1_000,
  maxHoldMs: 24 * 60 * 60 * 1000,
  maxPriceMinor: 1_000_000_000_000,
  /** Entries one `readEvents` call returns at most. */
  maxEventRead: 1_000,
} as const;

/** Engine defaults (SaleEngineOptions). */
export const DEFAULTS = {
  /** Entries kept in each drop's event log (approximate, MAXLEN ~); the gateway's room log keeps as many. */
  eventLogLength: 2_000,
  /** How long an active-index entry whose drop does not exist is kept, ms (a createDrop in flight). */
  activeGraceMs: 60_000,
} as const;

export const dropIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1-64 of A-Z a-z 0-9 _ -");
export const roomIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1-64 of A-Z a-z 0-9 _ -");
export const userIdSchema = z.string().regex(/^[A-Za-z0-9_.:@-]{1,128}$/, "1-128 of A-Z a-z 0-9 _ . : @ -");
export const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, "1-128 of A-Z a-z 0-9 _ . : -");
export const reservationIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}\.[1-9][0-9]{0,15}$/, "expected <dropId>.<sequence>");
const epochMs = z
  .number()
  .int()
  .min(0)
  .max(8_640_000_000_000_000 / 1000);

const noControlChars = /^[^\p{Cc}]*$/u;

export const productSchema = z.strictObject({
  sku: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 of A-Z a-z 0-9 . _ -"),
  title: z.string().trim().min(1).max(200).regex(noControlChars, "no control characters"),
  priceMinor: z.number().int().min(0).max(LIMITS.maxPriceMinor),
  currency: z.string().regex(/^[A-Z]{3}$/, "ISO 4217 code, e.g. USD"),
  imageUrl: z.url({ protocol: /^https?$/ }).max(2048),
});

/** The fields of a drop definition; `dropDefinitionSchema` adds the cross-field rules. */
export const dropFieldsSchema = z.strictObject({
  dropId: dropIdSchema,
  roomId: roomIdSchema,
  product: productSchema,
  initialStock: z.number().int().min(0).max(LIMITS.maxStock),
  perUserLimit: z.number().int().min(1).max(LIMITS.maxPerUserLimit),
  /** Server-clock ms epoch; omitted: the drop opens when created. */
  startsAt: epochMs.optional(),
  /** Server-clock ms epoch; omitted: open until ended by the host. */
  endsAt: epochMs.optional(),
  /** Time the buyer has to pay, ms. */
  holdMs: z.number().int().min(LIMITS.minHoldMs).max(LIMITS.maxHoldMs),
});

export const dropDefinitionSchema = dropFieldsSchema.refine(
  (d) => d.endsAt === undefined || d.startsAt === undefined || d.endsAt > d.startsAt,
  {
    message: "endsAt must be after startsAt",
    path: ["endsAt"],
  },
);

export const reserveRequestSchema = z.strictObject({
  dropId: dropIdSchema,
  userId: userIdSchema,
  qty: z.number().int().min(1).max(LIMITS.maxPerUserLimit),
  idempotencyKey: idempotencyKeySchema,
});

export const restockQtySchema = z.number().int().min(1).max(LIMITS.maxStock);
export const expireBatchSchema = z.number().int().min(1).max(10_000);
export const eventReadCountSchema = z.number().int().min(1).max(LIMITS.maxEventRead);
export const eventLogLengthSchema = z.number().int().min(1).max(10_000_000);
export const activeGraceMsSchema = z
  .number()
  .int()
  .min(0)
  .max(24 * 60 * 60 * 1000);

export type Product = z.infer<typeof productSchema>;
export type DropDefinition = z.infer<typeof dropDefinitionSchema>;
export type ReserveRequest = z.infer<typeof reserveRequestSchema>;
