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

/** Shortest and longest raffle entry window, ms. */
export const MIN_RAFFLE_WINDOW_MS = 60_000;
export const MAX_RAFFLE_WINDOW_MS = 86_400_000;

/**
 * A raffle's entry window, ms: buys in [T0, T0 + W] are entries (one per user), winners are
 * drawn at T0 + W, and an unpaid winner's unit goes to the next entrant in the drawn order (see
 * docs/architecture/sale-engine.md, "Raffles"). Exclusive with fairWindowMs.
 */
export const raffleWindowMsSchema = z.number().int().min(MIN_RAFFLE_WINDOW_MS).max(MAX_RAFFLE_WINDOW_MS);

/** How a drop with a draw draws: a fair window (seconds, then first come) or a raffle. */
const drawModeSchema = z.enum(["window", "raffle"]);

/** What a drop with a draw publishes: its window and the SHA-256 (hex) of the draw seed, before T0. */
export const fairInfoSchema = z.strictObject({
  mode: drawModeSchema,
  /** The entry window, ms (a fair window's or a raffle's). */
  windowMs: z.number().int().min(1).max(MAX_RAFFLE_WINDOW_MS),
  /** Server-clock ms epoch when the entries close and the draw is due (T0 + windowMs). */
  closesAt: epochMs,
  seedHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Server-clock ms epoch of the allocation; null while the window is open. */
  allocatedAt: epochMs.nullable(),
  /** The draw seed (64 hex chars), revealed once allocated; null before. */
  seed: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
});

/**
 * How a drop sells (every format sells through a drop): `drop` a timed drop (first come, a fair
 * window or a raffle), `auction` the backing drop of an auction (its holds are placed by the
 * auction), `giveaway` a raffle at price 0 whose winners must be in the room at the draw,
 * `buy_now` stock with no countdown that sells only while the host pins it.
 */
export const dropFormatSchema = z.enum(["drop", "auction", "giveaway", "buy_now"]);

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
  /** Raffle entry window, ms (see raffleWindowMsSchema); exclusive with fairWindowMs. */
  raffleWindowMs: raffleWindowMsSchema.optional(),
  /**
   * False: no waitlist when sold out. Omitted or true: a sold-out first-come drop takes a
   * waitlist, and released or expired holds go to it before they go back on sale.
   */
  waitlist: z.boolean().optional(),
  /** How the drop sells (see dropFormatSchema); omitted: `drop`. */
  format: dropFormatSchema.optional(),
});

/** A drop's waitlist (or a raffle's hand-off queue) counters; ticket t's position is t - served. */
export const waitlistInfoSchema = z.strictObject({
  /** Tickets handed out so far (the last ticket's number). */
  length: z.number().int().min(0),
  /** Tickets served (offered a hold) or skipped (the user was at the limit). */
  served: z.number().int().min(0),
});

export const dropDefinitionSchema = dropFieldsSchema
  .refine((d) => d.endsAt === undefined || d.startsAt === undefined || d.endsAt > d.startsAt, {
    message: "endsAt must be after startsAt",
    path: ["endsAt"],
  })
  .refine((d) => !((d.fairWindowMs ?? 0) > 0 && d.raffleWindowMs !== undefined), {
    message: "a drop has a fair window or a raffle, not both",
    path: ["raffleWindowMs"],
  })
  .refine((d) => d.format !== "giveaway" || (d.raffleWindowMs !== undefined && d.product.priceMinor === 0), {
    message: "a giveaway is a raffle (raffleWindowMs) of a product at priceMinor 0",
    path: ["format"],
  })
  .refine(
    (d) =>
      d.format !== "buy_now" ||
      (d.startsAt === undefined && (d.fairWindowMs ?? 0) === 0 && d.raffleWindowMs === undefined),
    { message: "buy-it-now opens when created: no startsAt, fair window or raffle", path: ["format"] },
  );

export type Product = z.infer<typeof productSchema>;
export type DropDefinition = z.infer<typeof dropDefinitionSchema>;
export type FairInfo = z.infer<typeof fairInfoSchema>;
export type DropFormat = z.infer<typeof dropFormatSchema>;
export type WaitlistInfo = z.infer<typeof waitlistInfoSchema>;
