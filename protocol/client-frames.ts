import { z } from "zod";
import { couponClaimIdSchema, couponCodeSchema } from "./coupon.ts";
import { MAX_FAIR_WINDOW_MS } from "./drop-fields.ts";
import {
  chatTextSchema,
  clientMsgIdSchema,
  dropIdSchema,
  epochSchema,
  idempotencyKeySchema,
  messageIdSchema,
  offsetSchema,
  paymentTokenSchema,
  reqIdSchema,
  reservationIdSchema,
  roomIdSchema,
  timeMsSchema,
  userIdSchema,
} from "./fields.ts";
import { WIRE_LIMITS } from "./limits.ts";
import { buyQtySchema, priceMinorSchema, restockQtySchema } from "./quantities.ts";

/**
 * Every client→server frame: a JSON object discriminated by `t`. All strict (an unknown key is
 * INVALID_FRAME, so a typo never silently does nothing) and every string bounded. The gateway
 * checks roles; these schemas only check shape.
 */

export const joinFrame = z.strictObject({ t: z.literal("join"), room: roomIdSchema });

export const leaveFrame = z.strictObject({ t: z.literal("leave"), room: roomIdSchema });

export const chatFrame = z.strictObject({
  t: z.literal("chat"),
  room: roomIdSchema,
  text: chatTextSchema,
  clientMsgId: clientMsgIdSchema,
});

export const buyFrame = z.strictObject({
  t: z.literal("buy"),
  reqId: reqIdSchema,
  dropId: dropIdSchema,
  qty: buyQtySchema,
  /** Same key, same answer: a retry after a lost ack never buys twice. */
  idempotencyKey: idempotencyKeySchema,
});

/** Joins a sold-out drop's waitlist (acked with the ticket); a freed unit comes as an `offer` frame. */
export const waitlistFrame = z.strictObject({
  t: z.literal("waitlist"),
  reqId: reqIdSchema,
  dropId: dropIdSchema,
  qty: buyQtySchema,
  /** The key of the hold the ticket gets: a buy retry with it finds that hold. */
  idempotencyKey: idempotencyKeySchema,
});

/** A proxy bid on an auction (acked with the price and whether the bidder leads). */
export const bidFrame = z.strictObject({
  t: z.literal("bid"),
  reqId: reqIdSchema,
  dropId: dropIdSchema,
  /** The most the bidder will pay, minor units: the engine bids for them up to it. */
  maxMinor: priceMinorSchema,
  /** Same key, same answer: a retry after a lost ack never bids twice. */
  idempotencyKey: idempotencyKeySchema,
});

export const payFrame = z.strictObject({
  t: z.literal("pay"),
  reqId: reqIdSchema,
  reservationId: reservationIdSchema,
  token: paymentTokenSchema,
  idempotencyKey: idempotencyKeySchema,
  /** A claim of this buyer (a `coupon` frame's answer) to take off this order. */
  couponClaimId: couponClaimIdSchema.optional(),
});

/** Claims a coupon pinned in a room (acked with the claim; a retry with the same key answers it). */
export const couponFrame = z.strictObject({
  t: z.literal("coupon"),
  reqId: reqIdSchema,
  room: roomIdSchema,
  code: couponCodeSchema,
  idempotencyKey: idempotencyKeySchema,
});

/** NTP-style clock sync: the server answers `pong` with its time and this `clientTime`. */
export const pingFrame = z.strictObject({
  t: z.literal("ping"),
  reqId: reqIdSchema,
  clientTime: timeMsSchema,
});

/** After a reconnect: send what was missed since `offset`, or a `resync` snapshot. */
export const resumeFrame = z.strictObject({
  t: z.literal("resume"),
  room: roomIdSchema,
  epoch: epochSchema,
  offset: offsetSchema,
});

/** Longest playback delay a client may report, ms (the longest fair window a drop may open with). */
export const MAX_REPORTED_DELAY_MS = MAX_FAIR_WINDOW_MS;

/** How a viewer watches: HLS (seconds behind) or WebRTC (sub-second). */
export const delaySourceSchema = z.enum(["hls", "webrtc"]);

/**
 * The client's playback delay behind the server clock in a room it joined: what it shows now
 * happened `ms` ago. No answer; the room's distribution sets a drop's fair window ("auto").
 */
export const delayFrame = z.strictObject({
  t: z.literal("delay"),
  room: roomIdSchema,
  ms: z.number().int().min(0).max(MAX_REPORTED_DELAY_MS),
  source: delaySourceSchema,
});

export const moderationAction = z.discriminatedUnion("kind", [
  /** Leaves a tombstone in the history. */
  z.strictObject({ kind: z.literal("delete"), messageId: messageIdSchema }),
  z.strictObject({
    kind: z.literal("timeout"),
    userId: userIdSchema,
    seconds: z.number().int().min(1).max(WIRE_LIMITS.maxTimeoutSeconds),
  }),
  z.strictObject({ kind: z.literal("ban"), userId: userIdSchema }),
  z.strictObject({ kind: z.literal("unban"), userId: userIdSchema }),
  /** 0 turns slow mode off. */
  z.strictObject({
    kind: z.literal("slowmode"),
    seconds: z.number().int().min(0).max(WIRE_LIMITS.maxSlowModeSeconds),
  }),
]);

export const moderationFrame = z.strictObject({
  t: z.literal("moderation"),
  /** Optional: with it the server acks, so a moderator console can show the outcome. */
  reqId: reqIdSchema.optional(),
  room: roomIdSchema,
  action: moderationAction,
});

const dropCommand = <K extends "launch" | "pause" | "resume" | "end" | "pin" | "unpin">(kind: K) =>
  z.strictObject({ kind: z.literal(kind), dropId: dropIdSchema });

export const hostAction = z.discriminatedUnion("kind", [
  dropCommand("launch"),
  dropCommand("pause"),
  dropCommand("resume"),
  dropCommand("end"),
  /** A buy-it-now drop sells while pinned. */
  dropCommand("pin"),
  dropCommand("unpin"),
  z.strictObject({
    kind: z.literal("restock"),
    dropId: dropIdSchema,
    qty: restockQtySchema,
  }),
]);

export const hostFrame = z.strictObject({
  t: z.literal("host"),
  reqId: reqIdSchema,
  room: roomIdSchema,
  action: hostAction,
});

export const clientFrameSchema = z.discriminatedUnion("t", [
  joinFrame,
  leaveFrame,
  chatFrame,
  buyFrame,
  payFrame,
  pingFrame,
  resumeFrame,
  moderationFrame,
  hostFrame,
  delayFrame,
  waitlistFrame,
  bidFrame,
  couponFrame,
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type ClientFrameType = ClientFrame["t"];
export type DelaySource = z.infer<typeof delaySourceSchema>;
export type DelayFrame = z.infer<typeof delayFrame>;
export type ModerationAction = z.infer<typeof moderationAction>;
export type HostAction = z.infer<typeof hostAction>;
export type HostActionKind = HostAction["kind"];
export const hostActionKindSchema = z.enum(["launch", "pause", "resume", "end", "pin", "unpin", "restock"]);

/** Every `t` a client may send, to tell UNKNOWN_TYPE from INVALID_FRAME. */
export const CLIENT_FRAME_TYPES: ReadonlySet<string> = new Set<ClientFrameType>(
  clientFrameSchema.options.map((o) => o.shape.t.value),
);
