import { z } from "zod";
import { productSchema } from "./drop-fields.ts";
import { countSchema, epochMsSchema } from "./fields.ts";
import {
  dropIdSchema,
  idempotencyKeySchema,
  reservationIdSchema,
  roomIdSchema,
  userIdSchema,
} from "./ids.ts";
import { holdMsSchema, priceMinorSchema } from "./quantities.ts";

/**
 * Auctions: one unit sold to the highest proxy bid (see docs/auctions.md). An auction is backed
 * by a drop of stock 1 with the same id; the winner's hold is a hold of that drop.
 */
export const AUCTION_LIMITS = {
  /** Shortest and longest bidding time, ms (ten seconds; a week). */
  minDurationMs: 10_000,
  maxDurationMs: 7 * 24 * 60 * 60 * 1000,
  /** Shortest and longest anti-snipe window, ms (0 is allowed: no extension). */
  minAntiSnipeMs: 1_000,
  maxAntiSnipeMs: 10 * 60 * 1000,
  /** Rows of an increment table. */
  maxIncrementRows: 20,
} as const;

/** One row of the increment table: from this price on, a bid must add at least `stepMinor`. */
export const incrementRowSchema = z.strictObject({
  fromMinor: priceMinorSchema,
  stepMinor: priceMinorSchema.refine((n) => n > 0, "a step is positive"),
});

/** The increment table: the first row starts at 0, rows strictly ascending by `fromMinor`. */
export const incrementTableSchema = z
  .array(incrementRowSchema)
  .min(1)
  .max(AUCTION_LIMITS.maxIncrementRows)
  .refine((rows) => rows[0]?.fromMinor === 0, "the first row starts at fromMinor 0")
  .refine(
    (rows) => rows.every((r, i) => i === 0 || r.fromMinor > (rows[i - 1]?.fromMinor ?? 0)),
    "rows sorted by fromMinor, strictly ascending",
  );

export const antiSnipeMsSchema = z
  .number()
  .int()
  .refine(
    (n) => n === 0 || (n >= AUCTION_LIMITS.minAntiSnipeMs && n <= AUCTION_LIMITS.maxAntiSnipeMs),
    `0 or ${AUCTION_LIMITS.minAntiSnipeMs}-${AUCTION_LIMITS.maxAntiSnipeMs} ms`,
  );

export const auctionDefinitionSchema = z
  .strictObject({
    /** The auction's id, which is also its backing drop's id. */
    dropId: dropIdSchema,
    roomId: roomIdSchema,
    /** What is sold; `priceMinor` is the starting price (the lowest first bid). */
    product: productSchema,
    /** Server-clock ms epoch; omitted: bidding opens when created. */
    startsAt: epochMsSchema.optional(),
    durationMs: z.number().int().min(AUCTION_LIMITS.minDurationMs).max(AUCTION_LIMITS.maxDurationMs),
    increments: incrementTableSchema,
    /** Lowest winning price, minor units; omitted: no reserve. */
    reserveMinor: priceMinorSchema.optional(),
    /** A bid in the last `antiSnipeMs` moves the end to `antiSnipeMs` after it; 0: never. */
    antiSnipeMs: antiSnipeMsSchema,
    /** True: the end never moves (then antiSnipeMs must be 0). */
    suddenDeath: z.boolean(),
    /** Time the winner (and each runner-up offered the unit) has to pay, ms. */
    holdMs: holdMsSchema,
  })
  .refine((a) => !(a.suddenDeath && a.antiSnipeMs > 0), {
    message: "sudden death takes no anti-snipe window",
    path: ["antiSnipeMs"],
  });

/** A proxy bid: the most the bidder will pay; the engine bids for them up to it. */
export const bidInputSchema = z.strictObject({
  dropId: dropIdSchema,
  userId: userIdSchema,
  maxMinor: priceMinorSchema,
  idempotencyKey: idempotencyKeySchema,
});

/** An accepted bid (or its replay: the answer recorded for the same user and key). */
export const bidAnswerSchema = z.strictObject({
  dropId: dropIdSchema,
  /** The bidder leads after this bid. */
  leading: z.boolean(),
  /** The current price after this bid. */
  priceMinor: priceMinorSchema,
  /** The bidder's standing maximum (this bid's amount). */
  maxMinor: priceMinorSchema,
  /** The end after this bid (server clock, ms). */
  endsAt: epochMsSchema,
  /** This bid moved the end (anti-snipe). */
  extended: z.boolean(),
  /** Accepted bids so far. */
  bids: countSchema,
  /** The lowest bid another bidder can place now. */
  minNextMinor: priceMinorSchema,
  replayed: z.boolean(),
});

export const auctionStateSchema = z.enum(["scheduled", "live", "closed", "settled"]);

/** What a viewer sees of an auction (users masked). */
export const auctionStatusSchema = z.strictObject({
  dropId: dropIdSchema,
  roomId: roomIdSchema,
  /** scheduled, live, closed (ended, settle due), settled. */
  state: auctionStateSchema,
  startsAt: epochMsSchema,
  endsAt: epochMsSchema,
  startPriceMinor: priceMinorSchema,
  /** The current price (the starting price before the first bid). */
  priceMinor: priceMinorSchema,
  /** The leader's mask; null before the first bid. */
  leader: z.string().nullable(),
  bids: countSchema,
  minNextMinor: priceMinorSchema,
  /** Whether a reserve exists (its amount is the host's). */
  hasReserve: z.boolean(),
  /** Known once settled: the reserve was met (or none) and a winner got a hold. */
  reserveMet: z.boolean().nullable(),
  /** The winner's hold, once settled with a winner. */
  reservationId: reservationIdSchema.nullable(),
  serverTime: epochMsSchema,
});

/** One entry of the bid history, newest first. `user` is masked unless the host asks. */
export const bidHistoryEntrySchema = z.strictObject({
  at: epochMsSchema,
  user: z.string(),
  /** The price after this bid. */
  priceMinor: priceMinorSchema,
  /** The leader after this bid (masked like `user`). */
  leader: z.string(),
  /** The bidder's maximum: the host's view only. */
  maxMinor: priceMinorSchema.optional(),
});

/** What settle did (idempotent: a second call answers `replayed`). */
export const auctionSettleSchema = z.strictObject({
  dropId: dropIdSchema,
  settled: z.boolean(),
  /** Not settled: the end has not come (it may have moved); the end, ms. */
  endsAt: epochMsSchema,
  reserveMet: z.boolean(),
  winner: userIdSchema.nullable(),
  priceMinor: priceMinorSchema.nullable(),
  reservationId: reservationIdSchema.nullable(),
  /** Runner-ups queued for the unit if the winner does not pay. */
  runnerUps: countSchema,
  replayed: z.boolean(),
});

export type IncrementRow = z.infer<typeof incrementRowSchema>;
export type AuctionDefinition = z.infer<typeof auctionDefinitionSchema>;
export type BidInput = z.infer<typeof bidInputSchema>;
export type BidAnswer = z.infer<typeof bidAnswerSchema>;
export type AuctionState = z.infer<typeof auctionStateSchema>;
export type AuctionStatus = z.infer<typeof auctionStatusSchema>;
export type BidHistoryEntry = z.infer<typeof bidHistoryEntrySchema>;
export type AuctionSettle = z.infer<typeof auctionSettleSchema>;
