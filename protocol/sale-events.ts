import { z } from "zod";
import { dropFormatSchema } from "./drop-fields.ts";
import { countSchema, dropStateSchema, epochMsSchema } from "./fields.ts";
import { dropIdSchema, reservationIdSchema, roomIdSchema, userIdSchema } from "./ids.ts";
import { buyQtySchema, priceMinorSchema } from "./quantities.ts";

/**
 * The sale engine's events, as its Lua scripts write them (drop event channel, drop event log,
 * outbox). Not strict: a reader of an older build ignores fields added later.
 */

/** What every event carries: the drop's state and counters at its version `v`. */
const eventBase = {
  drop: dropIdSchema,
  room: roomIdSchema,
  /** Per-drop event version: strictly increasing, gap-free. */
  v: countSchema,
  /** Redis TIME, ms. */
  at: epochMsSchema,
  state: dropStateSchema,
  available: countSchema,
  held: countSchema,
  sold: countSchema,
};

const holdFields = { ...eventBase, reservation: reservationIdSchema, user: userIdSchema, qty: buyQtySchema };

/** A hold's lifecycle: the events the outbox carries to the order pipeline. */
export const reservationEventSchema = z.discriminatedUnion("type", [
  z.object({
    ...holdFields,
    type: z.literal("reservation.placed"),
    deadline: epochMsSchema,
    /**
     * A hold the server placed: a draw's winner (`draw`), a raffle's next entrant in drawn order
     * (`handoff`) or the waitlist's next ticket (`waitlist`). Absent for a buyer's own hold.
     */
    via: z.enum(["draw", "handoff", "waitlist", "auction"]).optional(),
    /** The unit price of this hold, minor units (an auction's price); absent: the product's. */
    priceMinor: priceMinorSchema.optional(),
  }),
  z.object({ ...holdFields, type: z.literal("reservation.confirmed") }),
  z.object({
    ...holdFields,
    type: z.literal("reservation.released"),
    reason: z.enum(["released", "expired"]),
  }),
]);

export const saleEventSchema = z.discriminatedUnion("type", [
  z.object({
    ...eventBase,
    type: z.literal("drop.created"),
    starts: epochMsSchema,
    /** 0: open until the host ends it. */
    ends: epochMsSchema,
    limit: countSchema,
    hold: countSchema,
    /** A fair drop's window, ms, and the SHA-256 (hex) of its draw seed. */
    fairWindow: countSchema.optional(),
    seedHash: z.string().optional(),
    /** A raffle's entry window, ms (with `seedHash`; then no `fairWindow`). */
    raffleWindow: countSchema.optional(),
    /** How the drop sells; absent: a timed drop (`drop`). */
    format: dropFormatSchema.optional(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("drop.state"),
    action: z.enum(["launch", "pause", "resume", "end"]),
    /** A launch moves the start to now. */
    starts: epochMsSchema.optional(),
  }),
  z.object({ ...eventBase, type: z.literal("stock.restocked"), qty: countSchema }),
  /** A buy-it-now drop was pinned (it sells now) or unpinned (buys are refused NOT_PINNED). */
  z.object({ ...eventBase, type: z.literal("drop.pinned") }),
  z.object({ ...eventBase, type: z.literal("drop.unpinned") }),
  /**
   * A fair window closed: the seed is revealed with the entries in draw order (users masked,
   * see sale-engine/draw.ts), so anyone recomputes the allocation. The winners' holds are the
   * reservation.placed events just before this one.
   */
  z.object({
    ...eventBase,
    type: z.literal("fair.allocated"),
    /** A fair window's draw or a raffle's (absent in events written before raffles: window). */
    mode: z.enum(["window", "raffle"]).optional(),
    seed: z.string(),
    /** Units available when the window closed. */
    stock: countSchema,
    /** Units allocated. */
    units: countSchema,
    winners: countSchema,
    losers: countSchema,
    entries: z.array(
      z.object({
        entry: z.string(),
        user: z.string(),
        qty: buyQtySchema,
        granted: countSchema,
        /** A giveaway's entry whose user was not in the room at the draw (granted 0). */
        skipped: z.boolean().optional(),
      }),
    ),
  }),
  /** An accepted auction bid: the leader (masked) and price after it. Coalescable: latest wins. */
  z.object({
    ...eventBase,
    type: z.literal("auction.bid"),
    dropId: dropIdSchema,
    leader: z.string(),
    priceMinor: priceMinorSchema,
    endsAt: epochMsSchema,
    bids: countSchema,
    extended: z.boolean(),
  }),
  /** An auction settled: the winner (masked) and price when its reserve was met. */
  z.object({
    ...eventBase,
    type: z.literal("auction.ended"),
    dropId: dropIdSchema,
    winner: z.string().optional(),
    priceMinor: priceMinorSchema.optional(),
    reserveMet: z.boolean(),
  }),
  ...reservationEventSchema.options,
]);

export type SaleEvent = z.infer<typeof saleEventSchema>;
export type ReservationEvent = z.infer<typeof reservationEventSchema>;
