import { z } from "zod";
import { auctionStatusSchema, bidAnswerSchema, bidHistoryEntrySchema, bidInputSchema } from "./auction.ts";
import { couponIdSchema } from "./coupon.ts";
import { dropFormatSchema, productSchema } from "./drop-fields.ts";
import { countSchema, dropStateSchema, epochMsSchema, orderStatusSchema, roleSchema } from "./fields.ts";
import { dropIdSchema, reservationIdSchema, roomIdSchema, userIdSchema } from "./ids.ts";
import { dropFairSchema, dropWaitlistSchema } from "./server-frames.ts";

/**
 * The JSON API under /api/v1: the request bodies and queries of its non-command routes, and every
 * response body (the commands' request bodies are in commands.ts). Requests are strict (an
 * unknown field is a 400); responses are not: a client must accept fields added later.
 */

/** Most shadow tokens one request mints, and their longest life (a load test, not a login). */
export const SHADOW_TOKEN_LIMITS = {
  maxCount: 5_000,
  defaultTtlSeconds: 3_600,
  maxTtlSeconds: 86_400,
} as const;
/** Orders one audit page lists at most, and by default. */
export const AUDIT_PAGE_MAX = 500;
/** Drops one room page lists at most, and by default. */
export const ROOM_DROPS_PAGE_MAX = 50;

/** POST /api/v1/admin/shadow/tokens: load-test tokens, every one with the shadow claim. */
export const shadowTokensBodySchema = z.strictObject({
  role: z.enum(["viewer", "host"]),
  count: z.number().int().min(1).max(SHADOW_TOKEN_LIMITS.maxCount),
  rooms: z.array(roomIdSchema).max(32).default([]),
  ttlSeconds: z
    .number()
    .int()
    .min(60)
    .max(SHADOW_TOKEN_LIMITS.maxTtlSeconds)
    .default(SHADOW_TOKEN_LIMITS.defaultTtlSeconds),
});
/** PUT /api/v1/admin/shadow: the shadow-traffic kill switch. */
export const shadowSwitchBodySchema = z.strictObject({ enabled: z.boolean() });

/** `?after=<reservationId>&limit=N` of GET /api/v1/drops/:dropId/orders (query values arrive as text). */
export const auditPageQuerySchema = z.strictObject({
  after: reservationIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(AUDIT_PAGE_MAX),
});
/** `?after=<dropId>&limit=N` of GET /api/v1/rooms/:room/drops. */
export const roomDropsQuerySchema = z.strictObject({
  after: dropIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(ROOM_DROPS_PAGE_MAX).default(ROOM_DROPS_PAGE_MAX),
});

/** Every refusal: `{error: {code, message, details?}}` with a 4xx/5xx status. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** POST /api/v1/tokens/guest */
export const guestTokenResponseSchema = z.object({
  token: z.string(),
  userId: userIdSchema,
  role: roleSchema,
  expiresAt: epochMsSchema,
});

/** GET /api/v1/drops/:dropId, POST …/restock: a drop as the sale engine reports it. */
export const dropStatusSchema = z.object({
  dropId: dropIdSchema,
  roomId: roomIdSchema,
  product: productSchema,
  state: dropStateSchema,
  perUserLimit: countSchema,
  holdMs: countSchema,
  startsAt: epochMsSchema,
  endsAt: epochMsSchema.nullable(),
  createdAt: epochMsSchema,
  available: countSchema,
  held: countSchema,
  sold: countSchema,
  initial: countSchema,
  restocked: countSchema,
  /** Version of the drop's last event. */
  version: countSchema,
  /** The sale engine's clock when this was read (Redis TIME), ms. */
  serverTime: epochMsSchema,
  /** Only on a drop with a fair window or a raffle (as in the wire's drop snapshot). */
  fair: dropFairSchema.optional(),
  /** Only on a first-come drop with its waitlist on. */
  waitlist: dropWaitlistSchema.optional(),
  /** How the drop sells (absent from older servers: `drop`). */
  format: dropFormatSchema.optional(),
  /** Only on a buy-it-now drop: it sells while pinned. */
  pinned: z.boolean().optional(),
});

/** POST /api/v1/rooms/:room/drops (201 created, 200 the same definition again). */
export const createDropResponseSchema = z.object({ created: z.boolean(), drop: dropStatusSchema });

/** POST /api/v1/drops/:dropId/{launch,pause,resume,end} */
export const transitionResponseSchema = z.object({
  dropId: dropIdSchema,
  state: dropStateSchema,
  /** False when the drop already was in that state. */
  changed: z.boolean(),
});

/** POST /api/v1/drops/:dropId/buy (201 a new hold, 200 the answer replayed for the same key). */
export const reservationResponseSchema = z.object({
  reservationId: reservationIdSchema,
  dropId: dropIdSchema,
  userId: userIdSchema,
  qty: countSchema,
  /** Pay by this server-clock time or the hold is released. */
  deadline: epochMsSchema,
  available: countSchema,
  replayed: z.boolean(),
});

/** POST /api/v1/drops/:dropId/buy on a drop in its fair window or raffle: an entry of the draw (201, 200 replayed). */
export const entryResponseSchema = z.object({
  kind: z.literal("entered"),
  dropId: dropIdSchema,
  entryId: z.string(),
  qty: countSchema,
  /** Server-clock ms epoch at which the draw closes; the result comes over the socket or GET …/me. */
  closesAt: epochMsSchema,
  replayed: z.boolean(),
});

/** POST /api/v1/drops/:dropId/waitlist (201 joined, 200 the user's ticket again). */
export const waitlistResponseSchema = z.object({
  dropId: dropIdSchema,
  /** 1-based, in joining order. */
  ticket: countSchema,
  /** Tickets waiting up to and including this one; 0 once it was served or skipped. */
  position: countSchema,
  replayed: z.boolean(),
});

/**
 * POST /api/v1/rooms/:room/auctions: the auction's definition without its room (the path says it).
 * Checked whole by the command as protocol/auction.ts auctionDefinitionSchema; a refined schema
 * cannot drop a key, so the body's shape is only "an object" here.
 */
export const auctionOpenBodySchema = z.record(z.string(), z.unknown());

/** POST /api/v1/rooms/:room/auctions (201 opened, 200 the same definition again). */
export const auctionOpenResponseSchema = z.object({ opened: z.boolean(), auction: auctionStatusSchema });

/** POST /api/v1/drops/:dropId/bids: the bidder is the caller. */
export const bidBodySchema = bidInputSchema.omit({ dropId: true, userId: true });

/** POST /api/v1/drops/:dropId/bids (201 accepted, 200 the answer recorded for the same key). */
export const bidResponseSchema = bidAnswerSchema;

/** POST /api/v1/drops/:dropId/pin and /unpin: whether the buy-it-now drop sells now. */
export const pinResponseSchema = z.object({
  dropId: dropIdSchema,
  pinned: z.boolean(),
  /** False when it already was pinned (or unpinned). */
  changed: z.boolean(),
});

/** Most history entries one GET /api/v1/drops/:dropId/auction returns. */
export const AUCTION_HISTORY_PAGE_MAX = 100;

export const auctionViewQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(AUCTION_HISTORY_PAGE_MAX).default(20),
});

/** GET /api/v1/drops/:dropId/auction: the status and the newest bids, users masked. */
export const auctionViewResponseSchema = z.object({
  auction: auctionStatusSchema,
  history: z.array(bidHistoryEntrySchema),
});

/** POST /api/v1/drops/:dropId/buy: a hold (first come, first served) or an entry of the draw. */
export const buyResponseSchema = z.union([reservationResponseSchema, entryResponseSchema]);

/** GET /api/v1/drops/:dropId/draw: a drawn drop's draw, as published, and the server's own check of it. */
export const drawResponseSchema = z.object({
  dropId: dropIdSchema,
  mode: z.enum(["window", "raffle"]),
  seedHash: z.string(),
  /** Null only while the reveal is pending (never once allocated). */
  seed: z.string().nullable(),
  /** Units available when the entries closed. */
  stock: countSchema,
  perUserLimit: countSchema,
  allocatedAt: epochMsSchema.nullable(),
  /** In draw order; `user` is masked (HMAC of the seed; a buyer finds their own by computing it). */
  entries: z.array(
    z.object({
      entry: z.string(),
      user: z.string(),
      qty: countSchema,
      granted: countSchema,
      position: countSchema,
    }),
  ),
  /** Entry ids a giveaway's draw skipped (their users were not in the room): each gets 0. */
  skipped: z.array(z.string()),
  /** verifyDraw run on this very list: ok, or why it does not match. */
  verified: z.object({ ok: z.boolean(), reason: z.string().optional() }),
});

/** GET /api/v1/drops/:dropId/me: the caller's entries and waitlist ticket, what a reconnecting client shows. */
export const dropMeResponseSchema = z.object({
  dropId: dropIdSchema,
  entries: z.array(
    z.object({
      entryId: z.string(),
      qty: countSchema,
      status: z.enum(["entered", "won", "lost"]),
      reservationId: reservationIdSchema.nullable(),
      granted: countSchema,
    }),
  ),
  waitlist: z
    .object({
      ticket: countSchema,
      position: countSchema,
      status: z.enum(["waiting", "offered", "skipped"]),
    })
    .nullable(),
  /**
   * An auction's unpaid hold of the caller (the winner's, or a runner-up's handed the unit) at
   * their own price: what the `auctionHold` frame said, for a page that was away. Null otherwise.
   */
  auctionHold: z
    .object({ reservationId: reservationIdSchema, priceMinor: countSchema, deadline: epochMsSchema })
    .nullable(),
});

/** An order as the order store keeps it (POST …/pay answers it; GET /api/v1/orders/:id has it). */
export const orderSchema = z.object({
  reservationId: reservationIdSchema,
  dropId: dropIdSchema,
  roomId: roomIdSchema,
  userId: userIdSchema,
  sku: productSchema.shape.sku,
  title: z.string(),
  qty: countSchema,
  unitPriceMinor: countSchema,
  /** qty x unitPriceMinor: the list total. */
  totalMinor: countSchema,
  currency: productSchema.shape.currency,
  /** How it was sold: the drop's format. */
  format: dropFormatSchema,
  /** The coupon applied to it (`<room>.<code>`), or null. */
  couponId: couponIdSchema.nullable(),
  /** What the coupon takes off the list total; 0 without one. */
  discountMinor: countSchema,
  /** totalMinor - discountMinor: what the buyer pays. */
  paidMinor: countSchema,
  status: orderStatusSchema,
  holdDeadline: epochMsSchema,
  paymentRef: z.string().nullable(),
  createdAt: epochMsSchema,
  updatedAt: epochMsSchema,
  paidAt: epochMsSchema.nullable(),
});

/** GET /api/v1/orders/:reservationId: the order and its status history. */
export const orderDetailsResponseSchema = z.object({
  order: orderSchema,
  events: z.array(
    z.object({
      id: countSchema,
      reservationId: reservationIdSchema,
      fromStatus: orderStatusSchema.nullable(),
      toStatus: orderStatusSchema,
      reason: z.string(),
      details: z.record(z.string(), z.unknown()).nullable(),
      at: epochMsSchema,
    }),
  ),
});

/** GET /api/v1/rooms/:room/drops: a page of the room's drops, ended ones included, in drop-id order. */
export const roomDropsResponseSchema = z.object({
  room: roomIdSchema,
  drops: z.array(dropStatusSchema),
  /** The `after` of the next page, or null on the last one. */
  next: dropIdSchema.nullable(),
});

/** GET /api/v1/drops/:dropId/orders: a page of a drop's orders, in reservation-id order. */
export const dropOrdersPageSchema = z.object({
  dropId: dropIdSchema,
  orders: z.array(
    z.object({ reservationId: reservationIdSchema, status: orderStatusSchema, qty: countSchema }),
  ),
  next: reservationIdSchema.nullable(),
  truncated: z.boolean(),
});

/** POST /api/v1/admin/shadow/tokens */
export const shadowTokensResponseSchema = z.object({ tokens: z.array(z.string()), expiresAt: epochMsSchema });

/** GET / PUT /api/v1/admin/shadow */
export const shadowSwitchResponseSchema = z.object({ enabled: z.boolean(), lane: z.boolean() });

export type GuestTokenResponse = z.infer<typeof guestTokenResponseSchema>;
export type DropStatusResponse = z.infer<typeof dropStatusSchema>;
export type CreateDropResponse = z.infer<typeof createDropResponseSchema>;
export type TransitionResponse = z.infer<typeof transitionResponseSchema>;
export type ReservationResponse = z.infer<typeof reservationResponseSchema>;
export type EntryResponse = z.infer<typeof entryResponseSchema>;
export type BuyResponse = z.infer<typeof buyResponseSchema>;
export type DrawResponse = z.infer<typeof drawResponseSchema>;
export type DropMeResponse = z.infer<typeof dropMeResponseSchema>;
export type WaitlistResponse = z.infer<typeof waitlistResponseSchema>;
export type AuctionViewResponse = z.infer<typeof auctionViewResponseSchema>;
export type OrderResponse = z.infer<typeof orderSchema>;
export type OrderDetailsResponse = z.infer<typeof orderDetailsResponseSchema>;
export type RoomDropsResponse = z.infer<typeof roomDropsResponseSchema>;
export type DropOrdersPage = z.infer<typeof dropOrdersPageSchema>;
export type ShadowTokensResponse = z.infer<typeof shadowTokensResponseSchema>;
export type ShadowSwitchResponse = z.infer<typeof shadowSwitchResponseSchema>;
