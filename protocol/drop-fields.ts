import { z } from "zod";
import { dropIdSchema, roomIdSchema } from "./ids.ts";
import { holdMsSchema, initialStockSchema, perUserLimitSchema, priceMinorSchema } from "./quantities.ts";
import { NO_CONTROL_CHARS, NO_CONTROL_CHARS_MESSAGE } from "./text.ts";

/** What a host defines when creating a drop; the sale engine validates its input with these. */
const epochMs = z
  .number()
  .int()
  .min(0)
  .max(8_640_000_000_000_000 / 1000);

export const productSchema = z.strictObject({
  sku: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 of A-Z a-z 0-9 . _ -"),
  title: z.string().trim().min(1).max(200).regex(NO_CONTROL_CHARS, NO_CONTROL_CHARS_MESSAGE),
  priceMinor: priceMinorSchema,
  currency: z.string().regex(/^[A-Z]{3}$/, "ISO 4217 code, e.g. USD"),
  imageUrl: z.url({ protocol: /^https?$/ }).max(2048),
});

/** Longest fair window a drop may open with, ms. */
export const MAX_FAIR_WINDOW_MS = 60_000;

/**
 * A drop's fair window, ms: buys in [T0, T0 + W] are entries of a draw, allocated at T0 + W
 * (see docs/architecture/sale-engine.md, "Fair window"). 0 or omitted: first come, first served.
 */
export const fairWindowMsSchema = z.number().int().min(0).max(MAX_FAIR_WINDOW_MS);

/** What a fair drop publishes: its window and the SHA-256 (hex) of the draw seed, before T0. */
export const fairInfoSchema = z.strictObject({
  windowMs: fairWindowMsSchema,
  seedHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Server-clock ms epoch of the allocation; null while the window is open. */
  allocatedAt: epochMs.nullable(),
  /** The draw seed (64 hex chars), revealed once allocated; null before. */
  seed: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
});

/** The fields of a drop definition; `dropDefinitionSchema` adds the cross-field rules. */
export const dropFieldsSchema = z.strictObject({
  dropId: dropIdSchema,
  roomId: roomIdSchema,
  product: productSchema,
  initialStock: initialStockSchema,
  perUserLimit: perUserLimitSchema,
  /** Server-clock ms epoch; omitted: the drop opens when created. */
  startsAt: epochMs.optional(),
  /** Server-clock ms epoch; omitted: open until ended by the host. */
  endsAt: epochMs.optional(),
  /** Time the buyer has to pay, ms. */
  holdMs: holdMsSchema,
  /** Fair window, ms (see fairWindowMsSchema); omitted: first come, first served. */
  fairWindowMs: fairWindowMsSchema.optional(),
});

export const dropDefinitionSchema = dropFieldsSchema.refine(
  (d) => d.endsAt === undefined || d.startsAt === undefined || d.endsAt > d.startsAt,
  {
    message: "endsAt must be after startsAt",
    path: ["endsAt"],
  },
);

export type Product = z.infer<typeof productSchema>;
export type DropDefinition = z.infer<typeof dropDefinitionSchema>;
export type FairInfo = z.infer<typeof fairInfoSchema>;
