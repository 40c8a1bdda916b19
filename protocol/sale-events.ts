import { z } from "zod";
import { countSchema, dropStateSchema, epochMsSchema } from "./fields.ts";
import { dropIdSchema, reservationIdSchema, roomIdSchema, userIdSchema } from "./ids.ts";
import { buyQtySchema } from "./quantities.ts";

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
    via: z.enum(["draw", "handoff", "waitlist"]).optional(),
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
  }),
  z.object({
    ...eventBase,
    type: z.literal("drop.state"),
    action: z.enum(["launch", "pause", "resume", "end"]),
    /** A launch moves the start to now. */
    starts: epochMsSchema.optional(),
  }),
  z.object({ ...eventBase, type: z.literal("stock.restocked"), qty: countSchema }),
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
      z.object({ entry: z.string(), user: z.string(), qty: buyQtySchema, granted: countSchema }),
    ),
  }),
  ...reservationEventSchema.options,
]);

export type SaleEvent = z.infer<typeof saleEventSchema>;
export type ReservationEvent = z.infer<typeof reservationEventSchema>;
