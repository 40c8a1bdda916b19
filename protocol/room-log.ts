import { z } from "zod";
import { couponStatusSchema } from "./coupon.ts";
import { type Decoded, decodeFailure, decodeJson } from "./decode.ts";
import { displayNameSchema, epochMsSchema, epochSchema, offsetSchema } from "./fields.ts";
import { saleEventSchema } from "./sale-events.ts";
import { chatMessageSchema, moderationNoticeAction } from "./server-frames.ts";

/**
 * Entries of a room's log (a Redis Stream every gateway node reads): the sale engine's drop
 * events as they are, a drop's snapshot where its events could not be logged one by one, and
 * the chat. Not strict: a node of an older build ignores fields added later; an unknown `type`
 * fails to decode and the reader skips it.
 */
const dropSnapshotEntry = saleEventSchema.options[0]
  .pick({ drop: true, room: true, v: true, at: true, state: true, available: true, held: true, sold: true })
  .extend({ type: z.literal("drop.snapshot") });

export const roomLogEntrySchema = z.discriminatedUnion("type", [
  ...saleEventSchema.options,
  /** The drop's state when the events before it were not in the drop's event log any more. */
  dropSnapshotEntry,
  z.object({ type: z.literal("chat.message"), message: chatMessageSchema }),
  z.object({
    type: z.literal("chat.moderation"),
    action: moderationNoticeAction,
    by: displayNameSchema,
    at: epochMsSchema,
  }),
  /** A host pinned (again) or unpinned a coupon: its status then (the `coupon` room frame). */
  z.object({ type: z.literal("coupon.pinned"), coupon: couponStatusSchema }),
  z.object({ type: z.literal("coupon.unpinned"), coupon: couponStatusSchema }),
]);

export type RoomLogEntry = z.infer<typeof roomLogEntrySchema>;
export type RoomLogEntryType = RoomLogEntry["type"];
/** A room's own entries: chat and coupons, which name no drop. */
export type RoomOwnEntry = Extract<
  RoomLogEntry,
  { type: "chat.message" | "chat.moderation" | "coupon.pinned" | "coupon.unpinned" }
>;
/** A drop's entry (every type but the room's own). */
export type DropRoomEntry = Exclude<RoomLogEntry, RoomOwnEntry>;

/**
 * A logged entry as room-append.lua publishes it on the room channel: its epoch `e`, its offset
 * `o`, and the offset `p` of the entry logged just before it in the room ("" for an epoch's first
 * entry), so a reader sees a message it missed.
 */
export const roomMessageEnvelopeSchema = z.object({
  e: epochSchema,
  o: offsetSchema,
  p: z.union([offsetSchema, z.literal("")]).optional(),
  ev: z.unknown(),
});

/** A logged entry with its place in the room's log. */
export interface RoomMessage {
  readonly e: string;
  readonly o: string;
  readonly p?: string | undefined;
  readonly ev: RoomLogEntry;
}

/** A room channel message as decoded: `ev` undefined (with `error`) for an entry this build cannot read. */
export interface RoomChannelMessage {
  readonly e: string;
  readonly o: string;
  readonly p?: string | undefined;
  readonly ev: RoomLogEntry | undefined;
  readonly error?: string;
}

/** Decodes one room log entry (a stream entry's JSON), never throwing. */
export function decodeRoomLogEntry(json: string): Decoded<RoomLogEntry> {
  return decodeJson(roomLogEntrySchema, json);
}

/**
 * Decodes a room channel message. A message whose envelope is good but whose entry is not (a
 * type this build does not know) still tells its place in the log: `ev` is undefined then.
 */
export function decodeRoomMessage(json: string): Decoded<RoomChannelMessage> {
  const envelope = decodeJson(roomMessageEnvelopeSchema, json);
  if (!envelope.ok) return envelope;
  const { e, o, p, ev } = envelope.value;
  const entry = roomLogEntrySchema.safeParse(ev);
  return entry.success
    ? { ok: true, value: { e, o, p, ev: entry.data } }
    : { ok: true, value: { e, o, p, ev: undefined, error: decodeFailure(entry.error).error } };
}
