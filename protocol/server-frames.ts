import { z } from "zod";
import { bidAnswerSchema } from "./auction.ts";
import { hostActionKindSchema } from "./client-frames.ts";
import { WireErrorCode } from "./codes.ts";
import { COUPON_LIMITS, couponClaimIdSchema, couponIdSchema, couponStatusSchema } from "./coupon.ts";
import { dropFormatSchema } from "./drop-fields.ts";
import {
  countSchema,
  displayNameSchema,
  dropIdSchema,
  dropStateSchema,
  epochMsSchema,
  epochSchema,
  messageIdSchema,
  messageSchema,
  offsetSchema,
  orderStatusSchema,
  productSchema,
  reqIdSchema,
  reservationIdSchema,
  roleSchema,
  roomIdSchema,
  timeMsSchema,
  userIdSchema,
} from "./fields.ts";
import { WIRE_LIMITS } from "./limits.ts";
import { buyQtySchema, priceMinorSchema } from "./quantities.ts";

/**
 * Every server→client frame, discriminated by `t`. Unlike client frames these are not strict:
 * an older client still open during a rolling deploy ignores fields added later. Events that must
 * never be lost (`drop`, `stock`) carry the room offset `o` and epoch `e` for resume.
 */

const currencySchema = productSchema.shape.currency;
const wireErrorCodeSchema = z.enum(WireErrorCode);
const seedSchema = z.string().regex(/^[0-9a-f]{64}$/);
/** A fair-window entry: SHA-1 hex of `user|idempotencyKey`, the same for a retry with the same key. */
const entryIdSchema = z.string().min(1).max(64);

/** How a drop draws: a fair window of seconds at T0, or a raffle's entry window of minutes. */
export const drawModeSchema = z.enum(["window", "raffle"]);

/** A drawn drop's draw as buyers see it: the commitment before T0, the seed once allocated. */
export const dropFairSchema = z.object({
  mode: drawModeSchema,
  windowMs: countSchema,
  /** Server-clock ms epoch at which entries close and the draw runs. */
  closesAt: epochMsSchema,
  /** SHA-256 (hex) of the seed, published before T0. */
  seedHash: seedSchema,
  /** Revealed once allocated; null before. */
  seed: seedSchema.nullable(),
  allocatedAt: epochMsSchema.nullable(),
});

/** A first-come drop's waitlist: tickets handed out and served (or skipped); a ticket's position is t - served. */
export const dropWaitlistSchema = z.object({ length: countSchema, served: countSchema });

/** A drop as a viewer sees it; the same shape in `joined`, `drop` and `resync`. */
export const dropSnapshotSchema = z.object({
  dropId: dropIdSchema,
  roomId: roomIdSchema,
  product: productSchema,
  state: dropStateSchema,
  /** Server-clock T0; the client shows the countdown against its clock offset. */
  startsAt: epochMsSchema,
  endsAt: epochMsSchema.nullable(),
  perUserLimit: countSchema,
  holdMs: countSchema,
  available: countSchema,
  held: countSchema,
  sold: countSchema,
  /** Per-drop event version: a snapshot older than the one shown is ignored. */
  v: countSchema,
  /** Only on a drop with a fair window or a raffle. */
  fair: dropFairSchema.optional(),
  /** Only on a first-come drop with its waitlist on. */
  waitlist: dropWaitlistSchema.optional(),
  /** How the drop sells (absent: a timed drop, `drop`). */
  format: dropFormatSchema.optional(),
  /** Only on a buy-it-now drop: it sells while pinned (buys are refused NOT_PINNED otherwise). */
  pinned: z.boolean().optional(),
});

export const chatMessageSchema = z.object({
  id: messageIdSchema,
  room: roomIdSchema,
  userId: userIdSchema,
  name: displayNameSchema,
  role: roleSchema,
  /** Empty in a tombstone. */
  text: z.string().max(WIRE_LIMITS.maxChatRawUnits),
  at: epochMsSchema,
  /** A tombstone: a moderator deleted it; render as "message removed". */
  deleted: z.literal(true).optional(),
});

const drops = z.array(dropSnapshotSchema).max(WIRE_LIMITS.maxDropsPerRoom);
const chatMessages = z.array(chatMessageSchema).max(WIRE_LIMITS.maxChatBatch);

export const welcomeFrame = z.object({
  t: z.literal("welcome"),
  /** The server's PROTOCOL_VERSION: a client built for another major version reloads. */
  v: z.number().int().min(1),
  serverTime: epochMsSchema,
  connId: z.string().min(1).max(64),
  userId: userIdSchema,
  role: roleSchema,
});

export const joinedFrame = z.object({
  t: z.literal("joined"),
  room: roomIdSchema,
  epoch: epochSchema,
  /** Offset of the last event included in this snapshot: resume from here. */
  offset: offsetSchema,
  viewers: countSchema,
  /** The room's drops that are not ended, live and paused first (newest first), then the soonest. */
  drops,
  /**
   * True when the room has drops not in `drops` (ended ones, or past the snapshot's cap): page
   * through them over HTTP (`GET /api/v1/rooms/:room/drops`).
   */
  moreDrops: z.boolean().optional(),
  /** Recent chat, oldest first. */
  chat: chatMessages,
  /** The room's pinned coupons, sorted by code (absent from an older gateway). */
  coupons: z.array(couponStatusSchema).max(COUPON_LIMITS.maxPinnedPerRoom).optional(),
});

/** A drop was created or its state / window changed. */
export const dropFrame = z.object({
  t: z.literal("drop"),
  room: roomIdSchema,
  o: offsetSchema,
  e: epochSchema,
  drop: dropSnapshotSchema,
});

/** Stock counts of one drop (coalesced: a few a second at most). */
export const stockFrame = z.object({
  t: z.literal("stock"),
  room: roomIdSchema,
  o: offsetSchema,
  e: epochSchema,
  dropId: dropIdSchema,
  available: countSchema,
  held: countSchema,
  sold: countSchema,
  state: dropStateSchema,
  v: countSchema,
});

/**
 * An auction's standing after an accepted bid: the leader (masked) and price. Coalesced like
 * stock frames: the newest replaces one still waiting, so a frame is at most one period old.
 */
export const auctionFrame = z.object({
  t: z.literal("auction"),
  room: roomIdSchema,
  o: offsetSchema,
  e: epochSchema,
  dropId: dropIdSchema,
  leader: z.string(),
  priceMinor: priceMinorSchema,
  /** The end after this bid (server clock, ms): anti-snipe may have moved it. */
  endsAt: epochMsSchema,
  bids: countSchema,
  /** This bid moved the end. */
  extended: z.boolean(),
  v: countSchema,
});

/** An auction settled (never paced): the winner (masked) and price when its reserve was met. */
export const auctionEndedFrame = z.object({
  t: z.literal("auctionEnded"),
  room: roomIdSchema,
  o: offsetSchema,
  e: epochSchema,
  dropId: dropIdSchema,
  winner: z.string().optional(),
  priceMinor: priceMinorSchema.optional(),
  reserveMet: z.boolean(),
  v: countSchema,
});

/** A coupon was pinned (again) or unpinned in the room: its terms and counts then. */
export const couponRoomFrame = z.object({
  t: z.literal("coupon"),
  room: roomIdSchema,
  coupon: couponStatusSchema,
});

/** A batch of chat messages, oldest first (sampled in very large rooms). */
export const chatBatchFrame = z.object({
  t: z.literal("chat"),
  room: roomIdSchema,
  messages: chatMessages,
});

/** "Someone bought": sampled; carries a display name, never a user id. */
export const toastFrame = z.object({
  t: z.literal("toast"),
  room: roomIdSchema,
  dropId: dropIdSchema,
  qty: buyQtySchema,
  buyer: displayNameSchema,
});

/** Viewers across every gateway node. */
export const viewersFrame = z.object({ t: z.literal("viewers"), room: roomIdSchema, count: countSchema });

/** An order of this connection's user changed (created, paid, expired, ...). */
export const orderFrame = z.object({
  t: z.literal("order"),
  reservationId: reservationIdSchema,
  status: orderStatusSchema,
  dropId: dropIdSchema,
  totalMinor: countSchema,
  currency: currencySchema,
});

/**
 * A fair window or raffle was drawn (room order, like drop frames): the seed is revealed; the
 * entry list is served by GET /api/v1/drops/:dropId/draw.
 */
export const drawFrame = z.object({
  t: z.literal("draw"),
  room: roomIdSchema,
  o: offsetSchema,
  e: epochSchema,
  dropId: dropIdSchema,
  mode: drawModeSchema,
  seed: seedSchema,
  /** Units available when the entries closed. */
  stock: countSchema,
  /** Units allocated. */
  units: countSchema,
  winners: countSchema,
  losers: countSchema,
  v: countSchema,
});

/** This connection's user's entry was drawn: won (a hold to pay by `deadline`) or lost. */
export const entryFrame = z.object({
  t: z.literal("entry"),
  dropId: dropIdSchema,
  entryId: entryIdSchema,
  status: z.enum(["won", "lost"]),
  qty: buyQtySchema,
  /** Units won; 0 when lost (a winner may get fewer than asked for). */
  granted: countSchema,
  reservationId: reservationIdSchema.optional(),
  /** Pay by this server-clock time or the hold is released. */
  deadline: epochMsSchema.optional(),
});

/** The server handed this user a hold: a raffle's next in drawn order, or the waitlist's next. */
export const offerFrame = z.object({
  t: z.literal("offer"),
  dropId: dropIdSchema,
  reservationId: reservationIdSchema,
  qty: buyQtySchema,
  /** Pay (claim) by this server-clock time or the hold goes to the next one. */
  deadline: epochMsSchema,
  via: z.enum(["handoff", "waitlist"]),
});

/** This user won an auction (or, as runner-up, is offered its unit): a hold at their own price. */
export const auctionHoldFrame = z.object({
  t: z.literal("auctionHold"),
  dropId: dropIdSchema,
  reservationId: reservationIdSchema,
  /** What this user pays, minor units (the winning price, or the runner-up's highest bid). */
  priceMinor: priceMinorSchema,
  /** Pay by this server-clock time or the unit goes to the next bidder. */
  deadline: epochMsSchema,
});

/** Ack results, tagged by the request they answer. */
export const ackResultSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("buy"),
    reservationId: reservationIdSchema,
    dropId: dropIdSchema,
    qty: buyQtySchema,
    /** Pay by this server-clock time or the hold is released. */
    deadline: epochMsSchema,
    available: countSchema,
    /** The same idempotency key was answered before: this is that answer. */
    replayed: z.boolean(),
  }),
  z.object({
    /** A buy in a fair window or raffle: an entry of the draw; the result comes as an `entry` frame. */
    kind: z.literal("entered"),
    dropId: dropIdSchema,
    entryId: entryIdSchema,
    qty: buyQtySchema,
    /** Server-clock ms epoch at which the draw closes. */
    closesAt: epochMsSchema,
    replayed: z.boolean(),
  }),
  z.object({
    kind: z.literal("pay"),
    reservationId: reservationIdSchema,
    status: orderStatusSchema,
    totalMinor: countSchema,
    currency: currencySchema,
    /** What a coupon took off the list total (0 without one); the payment took `paidMinor`. */
    discountMinor: countSchema,
    paidMinor: countSchema,
  }),
  z.object({
    /** A coupon claim (or its replay: the claim made earlier with the same key). */
    kind: z.literal("coupon"),
    claimId: couponClaimIdSchema,
    couponId: couponIdSchema,
    replayed: z.boolean(),
  }),
  z.object({
    kind: z.literal("host"),
    action: hostActionKindSchema,
    dropId: dropIdSchema,
    state: dropStateSchema,
    /** False when the drop already was in that state. */
    changed: z.boolean(),
  }),
  z.object({ kind: z.literal("moderation") }),
  z.object({
    /** A host's pin or unpin of a buy-it-now drop. */
    kind: z.literal("pin"),
    dropId: dropIdSchema,
    pinned: z.boolean(),
    /** False when the drop already was pinned (or unpinned). */
    changed: z.boolean(),
  }),
  /** An accepted proxy bid (or its replay: the answer recorded for the same key). */
  z.object({ kind: z.literal("bid"), ...bidAnswerSchema.shape }),
  z.object({
    /** A waitlist ticket: `position` tickets wait up to and including it (0 once served). */
    kind: z.literal("waitlist"),
    dropId: dropIdSchema,
    ticket: countSchema,
    position: countSchema,
    /** The user had this ticket already (one per user per drop). */
    replayed: z.boolean(),
  }),
]);

export const ackFrame = z.discriminatedUnion("ok", [
  z.object({ t: z.literal("ack"), reqId: reqIdSchema, ok: z.literal(true), result: ackResultSchema }),
  z.object({
    t: z.literal("ack"),
    reqId: reqIdSchema,
    ok: z.literal(false),
    code: wireErrorCodeSchema,
    message: messageSchema,
    /** Retry after a short backoff with the same idempotency key (set with UNAVAILABLE and REPLICATION_TIMEOUT). */
    retryable: z.boolean().optional(),
  }),
]);

export const pongFrame = z.object({
  t: z.literal("pong"),
  reqId: reqIdSchema,
  /** Echo of the ping's clientTime. */
  clientTime: timeMsSchema,
  serverTime: epochMsSchema,
});

/** What a moderator did, as the room sees it. */
export const moderationNoticeAction = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("delete"), messageId: messageIdSchema }),
  z.object({
    kind: z.literal("timeout"),
    userId: userIdSchema,
    seconds: z.number().int().min(1).max(WIRE_LIMITS.maxTimeoutSeconds),
    /** Server-clock end of the timeout. */
    until: epochMsSchema,
  }),
  z.object({ kind: z.literal("ban"), userId: userIdSchema }),
  z.object({ kind: z.literal("unban"), userId: userIdSchema }),
  z.object({
    kind: z.literal("slowmode"),
    seconds: z.number().int().min(0).max(WIRE_LIMITS.maxSlowModeSeconds),
  }),
]);

export const moderationFrame = z.object({
  t: z.literal("moderation"),
  room: roomIdSchema,
  action: moderationNoticeAction,
  /** Display name of the moderator. */
  by: displayNameSchema,
  at: epochMsSchema,
});

/** The gap since the client's offset is older than the history: replace local state with this. */
export const resyncFrame = z.object({
  t: z.literal("resync"),
  room: roomIdSchema,
  epoch: epochSchema,
  offset: offsetSchema,
  /** As in `joined`: the drops not ended, at most the snapshot's cap. */
  drops,
  /** As in `joined`: more drops exist than `drops` holds. */
  moreDrops: z.boolean().optional(),
  /** As in `joined`: the room's pinned coupons. */
  coupons: z.array(couponStatusSchema).max(COUPON_LIMITS.maxPinnedPerRoom).optional(),
});

/**
 * A resume's replay is complete: every event up to `offset` was sent just before this frame;
 * what follows is live (stock frames coalesced). Frames with `o` at or below an offset already
 * seen are stale and are ignored.
 */
export const resumedFrame = z.object({
  t: z.literal("resumed"),
  room: roomIdSchema,
  epoch: epochSchema,
  offset: offsetSchema,
});

export const errorFrame = z.object({
  t: z.literal("error"),
  code: wireErrorCodeSchema,
  message: messageSchema,
  /** The request this answers (a chat frame's clientMsgId for chat refusals). */
  reqId: reqIdSchema.optional(),
  /** The room a refusal concerns (join, chat, resume), when there is one. */
  room: roomIdSchema.optional(),
  /** Sending the same frame again later may succeed (set with UNAVAILABLE). */
  retryable: z.boolean().optional(),
});

export const serverFrameSchema = z.discriminatedUnion("t", [
  welcomeFrame,
  joinedFrame,
  dropFrame,
  stockFrame,
  auctionFrame,
  auctionEndedFrame,
  chatBatchFrame,
  toastFrame,
  viewersFrame,
  orderFrame,
  drawFrame,
  entryFrame,
  offerFrame,
  auctionHoldFrame,
  ackFrame,
  pongFrame,
  moderationFrame,
  resyncFrame,
  resumedFrame,
  errorFrame,
  couponRoomFrame,
]);

export type DropSnapshot = z.infer<typeof dropSnapshotSchema>;
export type DropFair = z.infer<typeof dropFairSchema>;
export type DrawMode = z.infer<typeof drawModeSchema>;
export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type AckResult = z.infer<typeof ackResultSchema>;
export type ModerationNoticeAction = z.infer<typeof moderationNoticeAction>;
export type ServerFrame = z.infer<typeof serverFrameSchema>;
export type ServerFrameType = ServerFrame["t"];
/** One server frame type, e.g. `ServerFrameOf<"stock">`. */
export type ServerFrameOf<T extends ServerFrameType> = Extract<ServerFrame, { t: T }>;
